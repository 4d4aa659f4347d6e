// The writes `simulate` made, made again through SQLite alone: the floor of `simulate`.
//
//     cc -O2 -o /tmp/simulate_floor bench/simulate_floor.c -lsqlite3
//     /tmp/simulate_floor SIMULATED EMPTY tables|trail [savepoints]
//
// SIMULATED is a ledger `simulate` wrote; EMPTY a file with its schema and no rows (bench/run.sh
// makes it from SIMULATED's sqlite_master, statement by statement); the migrations' names and the application id are
// copied in here, untimed, so that maintledger can open the result).
//
// The trail records every change simulate made, in order: each entry's payload lists the rows
// its command inserted (every column) and the columns each update set (docs/trail-format.md).
// This reads the trail and decodes every payload first (untimed), then, timed, makes exactly
// those writes into EMPTY, entry by entry, in the transactions simulate made them in: the fleet
// in one, then one per 30 simulated days (an entry's batch follows from its recorded_at, as
// `FleetSimulator` groups days), each opened with the page cache simulate gives its batches
// (256 MB, back to 2 MB before the commit, as `LedgerDatabase.batchCommands` does), WAL,
// synchronous=FULL, temp_store=MEMORY and foreign keys on, as `LedgerDatabase.open` sets them.
// Prepared statements with bound values (texts and blobs bound in place): no reads, no rules,
// no encoding or hashing, no Swift.
//
// MODE "tables": the tables' rows alone (apps, add-ons, windows, attachments, each maintenance
// inserted then updated step by step, status changes, notices, moves, engine ticks): the writes the
// engine's history calls for. MODE "trail": the same, and after each entry's changes the entry
// itself (its payload and hash as recorded) and the Merkle tree nodes it completed, as simulate
// appends them: every byte simulate wrote, with no computation. "savepoints" also wraps each
// entry in the savepoint simulate runs each command in (a refused customer action rolls back
// only itself).
//
// For finding where the time goes, two settings simulate does not use: SYNCHRONOUS in the
// environment sets another `PRAGMA synchronous` (OFF: no fsync), and ONE_TRANSACTION=1 makes every
// write in one transaction, as the sqlite3 row copy does.
//
// Prints the seconds of the timed part on stdout; on stderr the CPU seconds, the counts, and
// whether every table of EMPTY then holds exactly the rows of SIMULATED (exit 1 if not).
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

enum { INSERT = 1, UPDATE = 2 };
enum { NTABLES = 11 }; // trail table codes 1 to 10
static const char *tableNames[NTABLES] = {0, "apps", "addons", "attachments", "windows", "maintenances",
                                          "maintenance_status_changes", "notices", "engine_ticks", "checkpoints",
                                          "maintenance_moves"};
static const char *compared[] = {"apps", "addons", "attachments", "windows", "maintenances", "maintenance_status_changes",
                                 "notices", "engine_ticks", "checkpoints", "maintenance_moves", "audit_trail", "trail_tree"};

// A value to bind: SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT or SQLITE_BLOB.
typedef struct { const void *p; union { int64_t i; double r; }; int len; unsigned char type; } Value;
typedef struct { int64_t id; Value *values; unsigned char *columns; unsigned char table, op, count; } Change;
typedef struct {
    int64_t seq, ms;
    const char *text[4]; // recorded_at, actor, action, subject
    int textLen[4];
    const void *payload, *hash;
    int payloadLen, hashLen, batch;
    size_t firstChange, changes, firstNode, nodes;
} Entry;
typedef struct { int64_t lastSeq; int level; const void *hash; int hashLen; } Node;

static void die(const char *what, const char *why) { fprintf(stderr, "simulate_floor: %s: %s\n", what, why); exit(1); }
static void check(sqlite3 *db, int rc, const char *what) { if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die(what, sqlite3_errmsg(db)); }

// Everything decoded lives in one bump allocator, freed at exit.
static void *arena(size_t n) {
    static char *block;
    static size_t left;
    n = (n + 7) & ~(size_t)7;
    if (n > left) {
        size_t size = n > (64u << 20) ? n : (64u << 20);
        if (!(block = malloc(size))) die("memory", "out of memory");
        left = size;
    }
    void *p = block;
    block += n;
    left -= n;
    return p;
}

static void *copy(const void *p, int n) { void *c = arena(n + 1); memcpy(c, p, n); ((char *)c)[n] = 0; return c; }

// Growable arrays.
#define GROW(array, count, cap) do { if ((count) == (cap)) { (cap) = (cap) ? 2 * (cap) : 1024; \
    if (!((array) = realloc((array), (cap) * sizeof *(array)))) die("memory", "out of memory"); } } while (0)
static Entry *entries; static size_t entryCount, entryCap;
static Change *changes; static size_t changeCount, changeCap;
static Node *nodes; static size_t nodeCount, nodeCap;

// --- Decoding a payload (docs/trail-format.md) --------------------------------------------------
typedef struct { const unsigned char *p, *end; int64_t seq; } Reader;

static void bad(Reader *r, const char *why) {
    char what[64];
    snprintf(what, sizeof what, "trail entry %lld", (long long)r->seq);
    die(what, why);
}

static uint64_t varint(Reader *r) {
    uint64_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) bad(r, "payload ends inside a varint");
        unsigned char b = *r->p++;
        n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return n;
    }
    bad(r, "varint too long");
    return 0;
}

static int64_t zigzag(Reader *r) { uint64_t n = varint(r); return (int64_t)(n >> 1) ^ -(int64_t)(n & 1); }

static const unsigned char *take(Reader *r, uint64_t n) {
    if ((uint64_t)(r->end - r->p) < n) bad(r, "payload ends inside a value");
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static int64_t daysFromCivil(int64_t y, int m, int d) { // Howard Hinnant's algorithm
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400, doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static const int64_t DAY_MS = 86400000;

// The stored time form of `ms`: YYYY-MM-DDTHH:MM:SS.sssZ.
static const char *timeText(int64_t ms) {
    int64_t days = ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS), rest = ms - days * DAY_MS;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    char buffer[80], *text = arena(25);
    snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", (long long)y, (long long)m, (long long)d,
             (long long)(rest / 3600000), (long long)(rest / 60000 % 60), (long long)(rest / 1000 % 60), (long long)(rest % 1000));
    memcpy(text, buffer, 25);
    return text;
}

static int64_t timeMs(const char *t) {
    return daysFromCivil(atoi(t), atoi(t + 5), atoi(t + 8)) * DAY_MS
           + ((atoi(t + 11) * 60 + atoi(t + 14)) * 60 + atoi(t + 17)) * 1000LL + atoi(t + 20);
}

static Value value(Reader *r, const Entry *e) {
    Value v = {0};
    unsigned char tag = *take(r, 1);
    switch (tag) {
    case 0x00: v.type = SQLITE_NULL; break;
    case 0x01: v.type = SQLITE_INTEGER; v.i = zigzag(r); break;
    case 0x02: {
        const unsigned char *b = take(r, 8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) bits = bits << 8 | b[i];
        v.type = SQLITE_FLOAT;
        memcpy(&v.r, &bits, 8);
        break;
    }
    case 0x03: case 0x04: v.type = tag == 0x03 ? SQLITE_TEXT : SQLITE_BLOB; v.len = (int)varint(r); v.p = take(r, v.len); break;
    case 0x05: v.type = SQLITE_TEXT; v.p = timeText(zigzag(r)); v.len = 24; break;
    case 0x06: case 0x07: v.type = SQLITE_TEXT; v.p = e->text[tag - 0x06]; v.len = e->textLen[tag - 0x06]; break;
    case 0x08: {
        const unsigned char *b = take(r, 16);
        char *text = arena(37);
        int n = 0;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) text[n++] = '-';
            n += sprintf(text + n, "%02x", b[i]);
        }
        v.type = SQLITE_TEXT; v.p = text; v.len = 36;
        break;
    }
    default: bad(r, "unknown value tag");
    }
    return v;
}

static void decode(Entry *e) {
    Reader r = {e->payload, (const unsigned char *)e->payload + e->payloadLen, e->seq};
    e->firstChange = changeCount;
    while (r.p < r.end) {
        GROW(changes, changeCount, changeCap);
        Change *c = &changes[changeCount++];
        unsigned char code = *take(&r, 1);
        c->op = code >> 4;
        c->table = code & 0x0f;
        if ((c->op != INSERT && c->op != UPDATE) || c->table < 1 || c->table >= NTABLES) bad(&r, "unknown change code");
        c->id = (int64_t)varint(&r);
        c->count = (unsigned char)varint(&r);
        c->values = arena(c->count * sizeof(Value));
        c->columns = c->op == UPDATE ? arena(c->count) : 0;
        for (int i = 0; i < c->count; i++) {
            if (c->op == UPDATE) c->columns[i] = (unsigned char)varint(&r);
            c->values[i] = value(&r, e);
        }
        if (c->op == UPDATE) take(&r, 16); // the row's digest: nothing to write
    }
    e->changes = changeCount - e->firstChange;
}

// --- Reading the simulated ledger (untimed) -----------------------------------------------------
static void readTrail(sqlite3 *in) {
    sqlite3_stmt *s;
    check(in, sqlite3_prepare_v2(in, "SELECT seq, recorded_at, actor, action, subject, payload, hash FROM audit_trail ORDER BY seq", -1, &s, 0), "trail");
    while (sqlite3_step(s) == SQLITE_ROW) {
        GROW(entries, entryCount, entryCap);
        Entry *e = &entries[entryCount++];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int64(s, 0);
        for (int t = 0; t < 4; t++) {
            e->textLen[t] = sqlite3_column_bytes(s, 1 + t);
            e->text[t] = copy(sqlite3_column_text(s, 1 + t), e->textLen[t]);
        }
        if (sqlite3_column_type(s, 5) != SQLITE_BLOB) die("trail", "not a format 2 trail (simulate writes format 2)");
        e->payloadLen = sqlite3_column_bytes(s, 5);
        e->payload = copy(sqlite3_column_blob(s, 5), e->payloadLen);
        e->hashLen = sqlite3_column_bytes(s, 6);
        e->hash = copy(sqlite3_column_blob(s, 6), e->hashLen);
        e->ms = timeMs(e->text[0]);
        decode(e);
    }
    sqlite3_finalize(s);
    check(in, sqlite3_prepare_v2(in, "SELECT last_seq, level, hash FROM trail_tree ORDER BY last_seq, level", -1, &s, 0), "tree");
    size_t entry = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        GROW(nodes, nodeCount, nodeCap);
        Node *n = &nodes[nodeCount++];
        n->lastSeq = sqlite3_column_int64(s, 0);
        n->level = sqlite3_column_int(s, 1);
        n->hashLen = sqlite3_column_bytes(s, 2);
        n->hash = copy(sqlite3_column_blob(s, 2), n->hashLen);
        while (entry < entryCount && entries[entry].seq < n->lastSeq) entry++;
        if (entry == entryCount || entries[entry].seq != n->lastSeq) die("tree", "a node of no entry");
        if (!entries[entry].nodes) entries[entry].firstNode = nodeCount - 1;
        entries[entry].nodes++;
    }
    sqlite3_finalize(s);
}

// The transaction each entry was made in: `FleetSimulator.run` provisions the fleet in one (its
// apps:create and addons:create entries come first), then runs 30 days to a transaction, day d
// holding what happened after the end of day d - 1 up to the end of day d (its tick, recorded at
// midnight, ends it). Returns the number of transactions.
static int assignBatches(void) {
    if (!entryCount) die("trail", "no entries");
    int64_t start = entries[0].ms;
    int batch = 0;
    for (size_t i = 0; i < entryCount; i++) {
        Entry *e = &entries[i];
        int provisioning = batch == 0 && (!strcmp(e->text[2], "apps:create") || !strcmp(e->text[2], "addons:create"));
        if (!provisioning) {
            int64_t day = e->ms <= start ? 1 : (e->ms - start + DAY_MS - 1) / DAY_MS;
            int b = 1 + (int)((day - 1) / 30);
            if (b > batch) batch = b;
        }
        e->batch = batch;
    }
    return batch + 1;
}

// --- Writing (timed) ----------------------------------------------------------------------------
static sqlite3 *out;
static int columnCount[NTABLES];
static char *columnName[NTABLES][64];
static sqlite3_stmt *inserts[NTABLES];
typedef struct { uint64_t mask; sqlite3_stmt *s; } CachedUpdate;
static CachedUpdate updates[NTABLES][64];

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    check(out, sqlite3_prepare_v3(out, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, 0), sql);
    return s;
}

static void readColumns(void) {
    for (int t = 1; t < NTABLES; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", tableNames[t]);
        sqlite3_stmt *s = prepare(sql);
        while (sqlite3_step(s) == SQLITE_ROW) columnName[t][columnCount[t]++] = strdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        char insert[1024];
        int n = snprintf(insert, sizeof insert, "INSERT INTO %s VALUES (?", tableNames[t]);
        for (int c = 1; c < columnCount[t]; c++) n += snprintf(insert + n, sizeof insert - n, ", ?");
        snprintf(insert + n, sizeof insert - n, ")");
        inserts[t] = prepare(insert);
    }
}

static sqlite3_stmt *updateStatement(const Change *c) {
    uint64_t mask = 0;
    for (int i = 0; i < c->count; i++) mask |= 1ull << c->columns[i];
    CachedUpdate *slot = updates[c->table];
    for (; slot->s; slot++) if (slot->mask == mask) return slot->s;
    if (slot - updates[c->table] == 63) die("update", "too many column sets");
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "UPDATE %s SET ", tableNames[c->table]);
    for (int i = 0; i < c->count; i++) n += snprintf(sql + n, sizeof sql - n, "%s%s = ?", i ? ", " : "", columnName[c->table][c->columns[i]]);
    snprintf(sql + n, sizeof sql - n, " WHERE id = ?");
    slot->mask = mask;
    return slot->s = prepare(sql);
}

static void bind(sqlite3_stmt *s, int at, const Value *v) {
    switch (v->type) {
    case SQLITE_NULL: sqlite3_bind_null(s, at); break;
    case SQLITE_INTEGER: sqlite3_bind_int64(s, at, v->i); break;
    case SQLITE_FLOAT: sqlite3_bind_double(s, at, v->r); break;
    case SQLITE_TEXT: sqlite3_bind_text(s, at, v->p, v->len, SQLITE_STATIC); break;
    default: sqlite3_bind_blob(s, at, v->p, v->len, SQLITE_STATIC); break;
    }
}

static void run(sqlite3_stmt *s, const char *what) {
    if (sqlite3_step(s) != SQLITE_DONE) die(what, sqlite3_errmsg(out));
    sqlite3_reset(s);
}

static void apply(const Change *c) {
    sqlite3_stmt *s;
    if (c->op == INSERT) {
        if (c->count != columnCount[c->table] - 1) die(tableNames[c->table], "an insert without every column");
        s = inserts[c->table];
        sqlite3_bind_int64(s, 1, c->id);
        for (int i = 0; i < c->count; i++) bind(s, 2 + i, &c->values[i]);
    } else {
        s = updateStatement(c);
        for (int i = 0; i < c->count; i++) bind(s, 1 + i, &c->values[i]);
        sqlite3_bind_int64(s, c->count + 1, c->id);
    }
    run(s, tableNames[c->table]);
}

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static double cpu(void) { struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6; }

static void exec(const char *sql) { check(out, sqlite3_exec(out, sql, 0, 0, 0), sql); }

static int64_t count(const char *sql) {
    sqlite3_stmt *s = prepare(sql);
    check(out, sqlite3_step(s), sql);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5 || (strcmp(argv[3], "tables") && strcmp(argv[3], "trail")) || (argc == 5 && strcmp(argv[4], "savepoints"))) {
        fprintf(stderr, "usage: simulate_floor SIMULATED EMPTY tables|trail [savepoints]\n");
        return 64;
    }
    int trail = !strcmp(argv[3], "trail"), savepoints = argc == 5;
    sqlite3 *in;
    if (sqlite3_open_v2(argv[1], &in, SQLITE_OPEN_READONLY, 0)) die(argv[1], sqlite3_errmsg(in));
    readTrail(in);
    sqlite3_close(in);
    int transactions = assignBatches();

    if (sqlite3_open(argv[2], &out)) die(argv[2], sqlite3_errmsg(out));
    if (count("SELECT count(*) FROM audit_trail")) die(argv[2], "not empty");
    // What maintledger needs to open the result: the migrations' names and the application id.
    char setup[4096];
    snprintf(setup, sizeof setup, "ATTACH '%s' AS source; INSERT INTO schema_migrations SELECT * FROM source.schema_migrations", argv[1]);
    exec(setup);
    snprintf(setup, sizeof setup, "PRAGMA application_id = %lld; DETACH source", (long long)count("PRAGMA source.application_id"));
    exec(setup);
    snprintf(setup, sizeof setup, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = ON",
             getenv("SYNCHRONOUS") ? getenv("SYNCHRONOUS") : "FULL");
    exec(setup);
    if (getenv("ONE_TRANSACTION") && !strcmp(getenv("ONE_TRANSACTION"), "1")) {
        for (size_t i = 0; i < entryCount; i++) entries[i].batch = 0;
        transactions = 1;
    }
    readColumns();
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *bigCache = prepare("PRAGMA cache_size = -262144"), *smallCache = prepare("PRAGMA cache_size = -2000");
    sqlite3_stmt *savepoint = prepare("SAVEPOINT command"), *release = prepare("RELEASE SAVEPOINT command");
    sqlite3_stmt *entryInsert = prepare("INSERT INTO audit_trail VALUES (?, ?, ?, ?, ?, ?, NULL, ?)");
    sqlite3_stmt *nodeInsert = prepare("INSERT INTO trail_tree VALUES (?, ?, ?)");

    double t0 = now(), c0 = cpu();
    for (size_t i = 0; i < entryCount; i++) {
        const Entry *e = &entries[i];
        if (i == 0 || e->batch != e[-1].batch) {
            if (i) { run(smallCache, "cache"); run(commit, "commit"); }
            run(begin, "begin");
            run(bigCache, "cache");
        }
        if (savepoints) run(savepoint, "savepoint");
        for (size_t c = 0; c < e->changes; c++) apply(&changes[e->firstChange + c]);
        if (trail) {
            sqlite3_bind_int64(entryInsert, 1, e->seq);
            for (int t = 0; t < 4; t++) sqlite3_bind_text(entryInsert, 2 + t, e->text[t], e->textLen[t], SQLITE_STATIC);
            sqlite3_bind_blob(entryInsert, 6, e->payload, e->payloadLen, SQLITE_STATIC);
            sqlite3_bind_blob(entryInsert, 7, e->hash, e->hashLen, SQLITE_STATIC);
            run(entryInsert, "audit_trail");
            for (size_t n = 0; n < e->nodes; n++) {
                const Node *node = &nodes[e->firstNode + n];
                sqlite3_bind_int64(nodeInsert, 1, node->lastSeq);
                sqlite3_bind_int(nodeInsert, 2, node->level);
                sqlite3_bind_blob(nodeInsert, 3, node->hash, node->hashLen, SQLITE_STATIC);
                run(nodeInsert, "trail_tree");
            }
        }
        if (savepoints) run(release, "release");
    }
    run(smallCache, "cache");
    run(commit, "commit");
    double t1 = now(), c1 = cpu();
    printf("%.3f\n", t1 - t0);
    fflush(stdout);
    fprintf(stderr, "simulate_floor %s%s: %zu entries, %zu changes%s in %d transactions: %.3f s (cpu %.3f s)\n", argv[3],
            savepoints ? " savepoints" : "", entryCount, changeCount, trail ? ", the entries and their tree nodes" : "",
            transactions, t1 - t0, c1 - c0);

    // The result must hold exactly the simulated ledger's rows (untimed).
    snprintf(setup, sizeof setup, "ATTACH '%s' AS source", argv[1]);
    exec(setup);
    int differ = 0;
    for (size_t t = 0; t < sizeof compared / sizeof *compared; t++) {
        const char *name = compared[t];
        int written = trail || (strcmp(name, "audit_trail") && strcmp(name, "trail_tree"));
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM main.%s), (SELECT count(*) FROM source.%s), "
                 "(SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM source.%s))", name, name, name, name);
        sqlite3_stmt *s = prepare(sql);
        check(out, sqlite3_step(s), sql);
        int64_t mine = sqlite3_column_int64(s, 0), theirs = sqlite3_column_int64(s, 1), other = sqlite3_column_int64(s, 2);
        sqlite3_finalize(s);
        if (written ? mine != theirs || other : mine != 0) {
            fprintf(stderr, "simulate_floor: %s: %lld rows (%lld not in %s), the simulated ledger %lld\n", name, (long long)mine,
                    (long long)other, argv[1], (long long)theirs);
            differ = 1;
        }
    }
    if (!differ) fprintf(stderr, "simulate_floor: every %s the simulated ledger holds, row for row\n", trail ? "row" : "table row (not the trail)");
    sqlite3_close(out);
    return differ;
}
