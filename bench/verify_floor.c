// What `audit:verify` cannot do without, done through SQLite alone: a floor for `audit:verify`.
//
//     cc -O2 -o /tmp/verify_floor bench/verify_floor.c -lsqlite3 -lcrypto -lpthread
//     /tmp/verify_floor LEDGER THREADS MMAP_BYTES [images|images+sha]
//
// LEDGER is a ledger whose trail is all format 2 (bench/gen_ledger.py makes one). The floor
// reads every row verification must read, with SQLite's cheapest calls (`sqlite3_column_value`,
// one per column, the bytes read in place), and of the SHA-256 the format calls for, no more
// than this (an inserted row's digest, which the format also makes verification compute, only
// with `images`, below):
//   - the trail in seq order: each entry's hash recomputed from its columns and the hash before
//     it, as docs/trail-format.md defines it, and compared with the stored one; each entry's
//     leaf and the Merkle nodes it completes;
//   - `trail_tree` (the stored nodes), read;
//   - every row of every ledger table, in id order: SHA-256 of its columns' bytes (a row must be
//     hashed to be compared with the digest an update recorded).
// No payload is decoded, no row is compared, no table row is encoded as the trail encodes it.
// With `images`, the comparison format 2 makes verification do is added, as cheaply as its
// definition allows: every row of every table hashed in its plain encoding (the bytes its digest
// covers: id first, tags 0x00 to 0x04 only, texts as they are); every change of every payload
// walked, an update's 16-byte digest taken as recorded, an insert's computed from its image
// (its values in tags 0x00 to 0x04 are already their plain bytes and are copied as they are;
// a time, a uuid and the entry's time or actor are written out as their text, the minimum the
// definition needs); then each row's digest compared with the one its last change implies, and
// the mismatches counted (0 when the ledger is as its trail says; the run exits 3 otherwise). It
// does not check, as verify also does, that each value is in its one encoding (no text tagged
// 0x03 that a shorter tag covers, no overlong varint).
// THREADS 1: all of it on one connection; 2: the trail, the tree and part of the status changes
// (half; with `images`, IMAGES_SHARE of them) on one, the other tables on another, each on its
// own thread, each in its own read transaction. MMAP_BYTES is the
// connections' `PRAGMA mmap_size` (0: SQLite's default, pages copied into its cache).
// Prints each part's CPU seconds and the wall time; with `images`, a second line: the changes
// per table, the inserts' images hashed, the rows compared and the mismatches; `images+sha` then
// times SHA-256 alone of as many messages as there were inserts, of their mean length (what
// recording a digest in every insert would move to the writers), after the wall time is taken.
// OpenSSL 3 deprecates its SHA256_* calls for EVP's, which adds a context per message: these
// are the calls verify makes through BoringSSL (SHA256Hasher.swift), so the floor keeps them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <sqlite3.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *path;
static long mmapBytes;
static int images;
static const char *tables[] = {"apps", "addons", "attachments", "windows", "maintenances", "maintenance_status_changes", "notices", "engine_ticks",
                               "checkpoints", "maintenance_moves"};
enum { TABLES = sizeof tables / sizeof *tables };
// With two threads, the table whose first half (by id) the trail's thread reads too: the status
// changes, 3 of the 4.3 million rows of the benchmark ledger, so that both have about as much to do.
enum { SHARED_TABLE = 5 };
// With `images`, the trail's thread has the inserts' images to hash too: the share of the status
// changes (by id) it reads then, which balanced the two threads' CPU on the benchmark ledger.
static const double IMAGES_SHARE = 0.1;
// The id up to which the trail's thread reads the shared table.
static long long sharedSplit;

// With `images`: each table's rows' digests (the first 16 bytes of SHA-256 of the plain
// encoding), by id, from the table (`actual`) and as the trail's last change of the row implies
// (`recorded`); all zero where there is no row. `size` is the table's max(id) + 1.
typedef unsigned char Digest[16];
static struct { long long size; Digest *actual, *recorded; } digests[TABLES];
// What the trail's thread found, per table: inserts, updates, the plain bytes of the inserts'
// images it hashed, and changes of rows past the table's largest id (rows gone: mismatches).
static long long inserts[TABLES], updates[TABLES], imageBytes, beyondTable;

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "verify_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static sqlite3 *openLedger(void) {
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, 0) != SQLITE_OK) die(db, "open");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA mmap_size = %ld", mmapBytes);
    if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK) die(db, "mmap_size");
    if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", 0, 0, 0) != SQLITE_OK) die(db, "begin");
    return db;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, 0) != SQLITE_OK) die(db, sql);
    return statement;
}

static size_t varint(unsigned long long value, unsigned char *out) {
    size_t n = 0;
    while (value >= 0x80) { out[n++] = (unsigned char)(value | 0x80); value >>= 7; }
    out[n++] = (unsigned char)value;
    return n;
}

// Unsigned LEB128 at *p (before end); 0 when it runs past end or past 10 bytes.
static int readVarint(const unsigned char **p, const unsigned char *end, unsigned long long *value) {
    unsigned long long result = 0;
    for (int shift = 0; *p < end && shift < 70; shift += 7) {
        unsigned char byte = *(*p)++;
        result |= (unsigned long long)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) { *value = result; return 1; }
    }
    return 0;
}

static unsigned long long zigzag(long long n) { return ((unsigned long long)n << 1) ^ (unsigned long long)(n >> 63); }

static void twoDigits(unsigned char *out, unsigned n) { out[0] = (unsigned char)('0' + n / 10); out[1] = (unsigned char)('0' + n % 10); }

// The stored form of an instant, YYYY-MM-DDTHH:MM:SS.sssZ (Howard Hinnant's civil_from_days, as
// Timestamp does; keeping each day's text once worked out saved only 1% of the run).
static void storedTime(long long milliseconds, unsigned char *out) {
    long long days = milliseconds / 86400000, rest = milliseconds % 86400000;
    if (rest < 0) { rest += 86400000; days--; }
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097), yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    unsigned year = (unsigned)(yoe + era * 400 + (month <= 2)), ms = (unsigned)rest;
    twoDigits(out, year / 100 % 100);
    twoDigits(out + 2, year % 100);
    out[4] = '-';
    twoDigits(out + 5, month);
    out[7] = '-';
    twoDigits(out + 8, day);
    out[10] = 'T';
    twoDigits(out + 11, ms / 3600000);
    out[13] = ':';
    twoDigits(out + 14, ms / 60000 % 60);
    out[16] = ':';
    twoDigits(out + 17, ms / 1000 % 60);
    out[19] = '.';
    out[20] = (unsigned char)('0' + ms % 1000 / 100);
    twoDigits(out + 21, ms % 100);
    out[23] = 'Z';
}

static void uuidText(const unsigned char *bytes, unsigned char *out) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
        *out++ = (unsigned char)hex[bytes[i] >> 4];
        *out++ = (unsigned char)hex[bytes[i] & 0x0F];
    }
}

static void sha(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, a, na);
    if (nb) SHA256_Update(&context, b, nb);
    if (nc) SHA256_Update(&context, c, nc);
    SHA256_Final(out, &context);
}

// The first 16 bytes of SHA-256 of a message: a row digest. (OpenSSL 3's one-shot `SHA256()`
// fetches the algorithm for every message, 330 ns of a 112-byte message's 400 here.)
static void rowDigest(const void *bytes, size_t length, Digest out) {
    unsigned char full[32];
    sha(bytes, length, 0, 0, 0, 0, full);
    memcpy(out, full, 16);
}

// The plain encoding of a text: tag 0x03, varint(length), its bytes.
static unsigned char *plainText(unsigned char *out, const void *bytes, size_t length) {
    *out++ = 0x03;
    out += varint(length, out);
    memcpy(out, bytes, length);
    return out + length;
}

typedef struct { const unsigned char *bytes; size_t length; } Text;

// Steps *p over one value of a payload; with `out`, writes its plain encoding there too. 0 when
// the bytes are not a value.
static int plainValue(const unsigned char **p, const unsigned char *end, unsigned char **out, Text recordedAt, Text actor) {
    if (*p >= end) return 0;
    const unsigned char *start = (*p)++;
    unsigned long long n;
    switch (*start) {
    case 0x00: break;
    case 0x01: if (!readVarint(p, end, &n)) return 0; break;
    case 0x02: if (end - *p < 8) return 0; *p += 8; break;
    case 0x03: case 0x04:
        if (!readVarint(p, end, &n) || n > (unsigned long long)(end - *p)) return 0;
        *p += n;
        break;
    case 0x05:
        if (!readVarint(p, end, &n)) return 0;
        if (out) {
            (*out)[0] = 0x03;
            (*out)[1] = 24;
            storedTime((long long)(n >> 1) ^ -(long long)(n & 1), *out + 2);
            *out += 26;
        }
        return 1;
    case 0x06: if (out) *out = plainText(*out, recordedAt.bytes, recordedAt.length); return 1;
    case 0x07: if (out) *out = plainText(*out, actor.bytes, actor.length); return 1;
    case 0x08:
        if (end - *p < 16) return 0;
        if (out) {
            (*out)[0] = 0x03;
            (*out)[1] = 36;
            uuidText(*p, *out + 2);
            *out += 38;
        }
        *p += 16;
        return 1;
    default: return 0;
    }
    // Tags 0x00 to 0x04: the payload's bytes are the plain encoding's.
    if (out) {
        memcpy(*out, start, (size_t)(*p - start));
        *out += *p - start;
    }
    return 1;
}

static void badPayload(long long seq) {
    fprintf(stderr, "verify_floor: seq %lld: the payload is not format 2's\n", seq);
    exit(1);
}

// Every change of a payload: the digest each implies for its row, in `digests[…].recorded`.
static void recordChanges(long long seq, const unsigned char *p, size_t length, Text recordedAt, Text actor) {
    // Room for any insert's plain encoding: a value takes at least one byte of the payload and
    // renders as at most 26 bytes a byte, or a text of the entry's (as verify reckons it).
    static unsigned char *room;
    static size_t roomSize;
    size_t longest = recordedAt.length > actor.length ? recordedAt.length : actor.length, need = 11 + length * (37 + longest);
    if (need > roomSize) {
        roomSize = need > 2 * roomSize ? need : 2 * roomSize;
        if (!(room = realloc(room, roomSize))) { fprintf(stderr, "verify_floor: out of memory\n"); exit(1); }
    }
    const unsigned char *end = p + length;
    if (p == end) badPayload(seq);
    while (p < end) {
        unsigned operation = *p >> 4, t = (*p & 0x0F) - 1u;
        p++;
        unsigned long long id, count, column;
        if ((operation != 1 && operation != 2) || t >= TABLES || !readVarint(&p, end, &id) || !readVarint(&p, end, &count)) badPayload(seq);
        unsigned char *slot = id < (unsigned long long)digests[t].size ? digests[t].recorded[id] : 0;
        beyondTable += !slot;
        if (operation == 1) {
            // id first, as an integer, then the values.
            unsigned char *out = room;
            *out++ = 0x01;
            out += varint(zigzag((long long)id), out);
            for (unsigned long long i = 0; i < count; i++) if (!plainValue(&p, end, &out, recordedAt, actor)) badPayload(seq);
            Digest digest;
            rowDigest(room, (size_t)(out - room), digest);
            if (slot) memcpy(slot, digest, 16);
            inserts[t]++;
            imageBytes += out - room;
        } else {
            for (unsigned long long i = 0; i < count; i++) {
                if (!readVarint(&p, end, &column) || !plainValue(&p, end, 0, recordedAt, actor)) badPayload(seq);
            }
            if (end - p < 16) badPayload(seq);
            if (slot) memcpy(slot, p, 16);
            p += 16;
            updates[t]++;
        }
    }
}

// The trail: every entry's hash and the Merkle tree over them (its edge: one node a level).
static long long checkTrail(sqlite3 *db) {
    sqlite3_stmt *s = prepare(db, "SELECT seq, recorded_at, actor, action, subject, payload, hash FROM audit_trail ORDER BY seq");
    unsigned char previous[32] = {0}, header[1 + 32 + 10 + 4 * (10 + 256)], computed[32], edge[64][32], node[32], pair[65];
    long long count = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        long long seq = sqlite3_value_int64(sqlite3_column_value(s, 0));
        size_t n = 0;
        header[n++] = 0x02;
        memcpy(header + n, previous, 32);
        n += 32;
        n += varint((unsigned long long)seq, header + n);
        for (int column = 1; column <= 4; column++) {
            sqlite3_value *text = sqlite3_column_value(s, column);
            const void *bytes = sqlite3_value_blob(text);
            int length = sqlite3_value_bytes(text);
            if (length > 256) { fprintf(stderr, "verify_floor: seq %lld: a text longer than 256 bytes\n", seq); exit(1); }
            n += varint((unsigned long long)length, header + n);
            memcpy(header + n, bytes, (size_t)length);
            n += (size_t)length;
        }
        sqlite3_value *payload = sqlite3_column_value(s, 5), *stored = sqlite3_column_value(s, 6);
        if (sqlite3_value_type(stored) != SQLITE_BLOB || sqlite3_value_bytes(stored) != 32) {
            fprintf(stderr, "verify_floor: seq %lld is not a format 2 entry\n", seq);
            exit(1);
        }
        sha(header, n, sqlite3_value_blob(payload), (size_t)sqlite3_value_bytes(payload), 0, 0, computed);
        if (memcmp(computed, sqlite3_value_blob(stored), 32) != 0) { fprintf(stderr, "verify_floor: seq %lld: hash differs\n", seq); exit(1); }
        memcpy(previous, computed, 32);
        // Merkle: leaf 0x00 || hash; node 0x01 || left || right, each full level paired.
        unsigned char zero = 0x00;
        sha(&zero, 1, computed, 32, 0, 0, node);
        int level = 0;
        for (long long index = count; index & 1; index >>= 1, level++) {
            pair[0] = 0x01;
            memcpy(pair + 1, edge[level], 32);
            memcpy(pair + 33, node, 32);
            sha(pair, 65, 0, 0, 0, 0, node);
        }
        memcpy(edge[level], node, 32);
        count++;
        if (images) {
            sqlite3_value *time = sqlite3_column_value(s, 1), *actor = sqlite3_column_value(s, 2);
            recordChanges(seq, sqlite3_value_blob(payload), (size_t)sqlite3_value_bytes(payload),
                          (Text){sqlite3_value_blob(time), (size_t)sqlite3_value_bytes(time)},
                          (Text){sqlite3_value_blob(actor), (size_t)sqlite3_value_bytes(actor)});
        }
    }
    sqlite3_finalize(s);
    long long nodes = 0;
    s = prepare(db, "SELECT last_seq, level, hash FROM trail_tree ORDER BY last_seq, level");
    while (sqlite3_step(s) == SQLITE_ROW) nodes += sqlite3_value_bytes(sqlite3_column_value(s, 2)) == 32;
    sqlite3_finalize(s);
    return count + nodes;
}

// With `images`: a table row's digest, the first 16 bytes of SHA-256 of its plain encoding.
static void plainDigest(sqlite3_stmt *s, int width, Digest out) {
    static __thread unsigned char *row;
    static __thread size_t rowSize;
    // The values and their types first: room is reckoned from a text's or blob's length alone
    // (asking an integer's would have SQLite render it as text).
    sqlite3_value *values[64];
    int types[64];
    size_t need = 0;
    if (width > 64) { fprintf(stderr, "verify_floor: a table of more than 64 columns\n"); exit(1); }
    for (int column = 0; column < width; column++) {
        values[column] = sqlite3_column_value(s, column);
        types[column] = sqlite3_value_type(values[column]);
        need += 11 + (types[column] == SQLITE_TEXT || types[column] == SQLITE_BLOB ? (size_t)sqlite3_value_bytes(values[column]) : 0);
    }
    if (need > rowSize) {
        rowSize = need > 2 * rowSize ? need : 2 * rowSize;
        if (!(row = realloc(row, rowSize))) { fprintf(stderr, "verify_floor: out of memory\n"); exit(1); }
    }
    unsigned char *o = row;
    for (int column = 0; column < width; column++) {
        sqlite3_value *value = values[column];
        switch (types[column]) {
        case SQLITE_NULL: *o++ = 0x00; break;
        case SQLITE_INTEGER: *o++ = 0x01; o += varint(zigzag(sqlite3_value_int64(value)), o); break;
        case SQLITE_FLOAT: {
            double number = sqlite3_value_double(value);
            unsigned long long bits;
            memcpy(&bits, &number, 8);
            *o++ = 0x02;
            for (int shift = 56; shift >= 0; shift -= 8) *o++ = (unsigned char)(bits >> shift);
            break;
        }
        default: {
            size_t length = (size_t)sqlite3_value_bytes(value);
            *o++ = types[column] == SQLITE_TEXT ? 0x03 : 0x04;
            o += varint(length, o);
            memcpy(o, sqlite3_value_blob(value), length);
            o += length;
        }
        }
    }
    rowDigest(row, (size_t)(o - row), out);
}

// Rows of a table past its largest id when the run began (a commit since: mismatches).
static long long beyondTableRows;

// Every row of the tables `part` takes (-1: all), each row's columns hashed (with `images`, its
// plain encoding, its digest kept in `digests[…].actual`).
static long long hashTables(sqlite3 *db, int part) {
    long long rows = 0;
    unsigned char digest[32];
    for (int t = 0; t < TABLES; t++) {
        if (part == 0 && t != SHARED_TABLE) continue;
        char sql[160];
        if (part < 0 || t != SHARED_TABLE) snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY id", tables[t]);
        else snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id %s %lld ORDER BY id", tables[t], part == 0 ? "<=" : ">", sharedSplit);
        sqlite3_stmt *s = prepare(db, sql);
        int width = sqlite3_column_count(s);
        while (sqlite3_step(s) == SQLITE_ROW) {
            rows++;
            if (images) {
                long long id = sqlite3_column_int64(s, 0);
                if (id > 0 && id < digests[t].size) plainDigest(s, width, digests[t].actual[id]);
                else __atomic_add_fetch(&beyondTableRows, 1, __ATOMIC_RELAXED);
                continue;
            }
            SHA256_CTX context;
            SHA256_Init(&context);
            for (int column = 0; column < width; column++) {
                sqlite3_value *value = sqlite3_column_value(s, column);
                switch (sqlite3_value_type(value)) {
                case SQLITE_INTEGER: { long long number = sqlite3_value_int64(value); SHA256_Update(&context, &number, 8); break; }
                case SQLITE_NULL: break;
                default: SHA256_Update(&context, sqlite3_value_blob(value), (size_t)sqlite3_value_bytes(value));
                }
            }
            SHA256_Final(digest, &context);
        }
        sqlite3_finalize(s);
    }
    return rows;
}

// `tables`: -1 every table; 0 the shared one's ids up to `sharedSplit`; 1 the rest.
typedef struct { sqlite3 *db; int trail; int tables; long long rows; double cpu; } Work;

static void *run(void *argument) {
    Work *work = argument;
    double start = seconds(CLOCK_THREAD_CPUTIME_ID);
    work->rows = (work->trail ? checkTrail(work->db) : 0) + hashTables(work->db, work->tables);
    work->cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - start;
    return 0;
}

// Each table's largest id, read in the first connection's read transaction: where the shared
// table is split and, with `images`, how many digests each table's arrays hold.
static void sizeTables(sqlite3 *db) {
    for (int t = 0; t < TABLES; t++) {
        char sql[100];
        snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM %s", tables[t]);
        sqlite3_stmt *s = prepare(db, sql);
        if (sqlite3_step(s) != SQLITE_ROW) die(db, sql);
        digests[t].size = sqlite3_column_int64(s, 0) + 1;
        sqlite3_finalize(s);
        if (images) {
            digests[t].actual = calloc((size_t)digests[t].size, sizeof(Digest));
            digests[t].recorded = calloc((size_t)digests[t].size, sizeof(Digest));
            if (!digests[t].actual || !digests[t].recorded) { fprintf(stderr, "verify_floor: out of memory\n"); exit(1); }
        }
    }
}

// Each row's digest against the one its last change implies; the mismatches (a row the trail
// does not imply, or one it does that the table lacks, counts too). `compared`: the rows.
static long long compareDigests(long long *compared) {
    static const Digest none;
    long long mismatches = beyondTable + beyondTableRows;
    *compared = 0;
    for (int t = 0; t < TABLES; t++) {
        for (long long id = 1; id < digests[t].size; id++) {
            *compared += memcmp(digests[t].actual[id], none, 16) != 0;
            if (memcmp(digests[t].actual[id], digests[t].recorded[id], 16) == 0) continue;
            if (mismatches++ < 5) fprintf(stderr, "verify_floor: %s row %lld is not what the trail recorded\n", tables[t], id);
        }
    }
    return mismatches;
}

// SHA-256 alone of `count` messages of `length` bytes, one at a time: CPU seconds.
static double hashAlone(long long count, size_t length) {
    unsigned char *message = calloc(length + 1, 1);
    if (!message) { fprintf(stderr, "verify_floor: out of memory\n"); exit(1); }
    Digest digest = {0};
    double start = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long long i = 0; i < count; i++) {
        message[0] = digest[0];  // each message depends on the digest before it
        rowDigest(message, length, digest);
    }
    free(message);
    return seconds(CLOCK_THREAD_CPUTIME_ID) - start;
}

int main(int argc, char **argv) {
    int withSha = argc == 5 && strcmp(argv[4], "images+sha") == 0;
    images = withSha || (argc == 5 && strcmp(argv[4], "images") == 0);
    if (argc != 4 && !images) { fprintf(stderr, "usage: verify_floor LEDGER THREADS MMAP_BYTES [images|images+sha]\n"); return 64; }
    path = argv[1];
    int threads = atoi(argv[2]);
    mmapBytes = atol(argv[3]);
    double wall = seconds(CLOCK_MONOTONIC);
    Work first = {openLedger(), 1, threads == 2 ? 0 : -1, 0, 0}, second = {0, 0, 1, 0, 0};
    sizeTables(first.db);
    sharedSplit = images ? (long long)((double)(digests[SHARED_TABLE].size - 1) * IMAGES_SHARE) : (digests[SHARED_TABLE].size - 1) / 2;
    if (threads == 2) {
        second.db = openLedger();
        pthread_t other;
        pthread_create(&other, 0, run, &second);
        run(&first);
        pthread_join(other, 0);
    } else {
        run(&first);
    }
    long long compared = 0, mismatches = 0;
    double compareStart = seconds(CLOCK_THREAD_CPUTIME_ID);
    if (images) mismatches = compareDigests(&compared);
    double compareCPU = seconds(CLOCK_THREAD_CPUTIME_ID) - compareStart;
    printf("thread 1: %lld rows, %.3f s CPU; thread 2: %lld rows, %.3f s CPU; wall %.3f s (threads %d, mmap %ld)\n",
           first.rows, first.cpu, second.rows, second.cpu, seconds(CLOCK_MONOTONIC) - wall, threads, mmapBytes);
    if (!images) return 0;
    long long inserted = 0, updated = 0;
    printf("images:");
    for (int t = 0; t < TABLES; t++) {
        inserted += inserts[t];
        updated += updates[t];
        if (inserts[t] || updates[t]) printf(" %s %lld+%lld", tables[t], inserts[t], updates[t]);
    }
    printf(" (inserts+updates); %lld inserts' images hashed, %.1f MB (mean %.1f bytes); %lld rows compared, %lld mismatches (%.3f s CPU)\n",
           inserted, imageBytes / 1e6, inserted ? (double)imageBytes / (double)inserted : 0.0, compared, mismatches, compareCPU);
    if (withSha && inserted) {
        size_t mean = (size_t)((imageBytes + inserted / 2) / inserted);
        printf("SHA-256 alone of %lld messages of %zu bytes: %.3f s CPU\n", inserted, mean, hashAlone(inserted, mean));
    }
    return mismatches ? 3 : 0;
}
