// What `audit:verify` cannot do without, done through SQLite alone: a floor for `audit:verify`.
//
//     cc -O2 -o /tmp/verify_floor bench/verify_floor.c -lsqlite3 -lcrypto -lpthread
//     /tmp/verify_floor LEDGER THREADS MMAP_BYTES
//
// LEDGER is a ledger whose trail is all format 2 (bench/gen_ledger.py makes one). The floor
// reads every row verification must read, with SQLite's cheapest calls (`sqlite3_column_value`,
// one per column, the bytes read in place), and does the SHA-256 the format calls for, no more:
//   - the trail in seq order: each entry's hash recomputed from its columns and the hash before
//     it, as docs/trail-format.md defines it, and compared with the stored one; each entry's
//     leaf and the Merkle nodes it completes;
//   - `trail_tree` (the stored nodes), read;
//   - every row of every ledger table, in id order: SHA-256 of its columns' bytes (a row must be
//     hashed to be compared with the digest an update recorded).
// No payload is decoded, no row is compared, no table row is encoded as the trail encodes it.
// THREADS 1: all of it on one connection; 2: the trail, the tree and half the status changes on
// one, the other tables on another, each on its own thread, each in its own read transaction. MMAP_BYTES is the
// connections' `PRAGMA mmap_size` (0: SQLite's default, pages copied into its cache).
// Prints each part's CPU seconds and the wall time.
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
static const char *tables[] = {"apps", "addons", "attachments", "windows", "maintenances", "maintenance_status_changes", "notices", "engine_ticks",
                               "checkpoints", "maintenance_moves"};
enum { TABLES = sizeof tables / sizeof *tables };
// With two threads, the table whose first half (by id) the trail's thread reads too: the status
// changes, 3 of the 4.3 million rows of the benchmark ledger, so that both have about as much to do.
enum { SHARED_TABLE = 5 };

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

static void sha(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, a, na);
    if (nb) SHA256_Update(&context, b, nb);
    if (nc) SHA256_Update(&context, c, nc);
    SHA256_Final(out, &context);
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
    }
    sqlite3_finalize(s);
    long long nodes = 0;
    s = prepare(db, "SELECT last_seq, level, hash FROM trail_tree ORDER BY last_seq, level");
    while (sqlite3_step(s) == SQLITE_ROW) nodes += sqlite3_value_bytes(sqlite3_column_value(s, 2)) == 32;
    sqlite3_finalize(s);
    return count + nodes;
}

// Every row of the tables `part` takes (-1: all), each row's columns hashed.
static long long hashTables(sqlite3 *db, int part) {
    long long rows = 0;
    unsigned char digest[32];
    for (int t = 0; t < TABLES; t++) {
        if (part == 0 && t != SHARED_TABLE) continue;
        char sql[160];
        const char *half = part < 0 || t != SHARED_TABLE ? "1" : part == 0 ? "id <= (SELECT max(id) / 2 FROM %s)" : "id > (SELECT max(id) / 2 FROM %s)";
        char where[100];
        snprintf(where, sizeof where, half, tables[t]);
        snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s ORDER BY id", tables[t], where);
        sqlite3_stmt *s = prepare(db, sql);
        int width = sqlite3_column_count(s);
        while (sqlite3_step(s) == SQLITE_ROW) {
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
            rows++;
        }
        sqlite3_finalize(s);
    }
    return rows;
}

// `tables`: -1 every table; 0 the first half of the shared one; 1 the rest.
typedef struct { sqlite3 *db; int trail; int tables; long long rows; double cpu; } Work;

static void *run(void *argument) {
    Work *work = argument;
    double start = seconds(CLOCK_THREAD_CPUTIME_ID);
    work->rows = (work->trail ? checkTrail(work->db) : 0) + hashTables(work->db, work->tables);
    work->cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - start;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: verify_floor LEDGER THREADS MMAP_BYTES\n"); return 64; }
    path = argv[1];
    int threads = atoi(argv[2]);
    mmapBytes = atol(argv[3]);
    double wall = seconds(CLOCK_MONOTONIC);
    Work first = {openLedger(), 1, threads == 2 ? 0 : -1, 0, 0}, second = {0, 0, 1, 0, 0};
    if (threads == 2) {
        second.db = openLedger();
        pthread_t other;
        pthread_create(&other, 0, run, &second);
        run(&first);
        pthread_join(other, 0);
    } else {
        run(&first);
    }
    printf("thread 1: %lld rows, %.3f s CPU; thread 2: %lld rows, %.3f s CPU; wall %.3f s (threads %d, mmap %ld)\n",
           first.rows, first.cpu, second.rows, second.cpu, seconds(CLOCK_MONOTONIC) - wall, threads, mmapBytes);
    return 0;
}
