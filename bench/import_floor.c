// The rows an import wrote, written again through SQLite alone: a floor for `import`.
//
//     cc -O2 -o /tmp/import_floor bench/import_floor.c -lsqlite3
//     /tmp/import_floor IMPORTED EMPTY lines|batches|tables ROWS_PER_INSERT TRAIL
//
// IMPORTED is a ledger `import` wrote (from a new ledger holding bench-app-0, as bench/run.sh
// makes it); EMPTY a new ledger made the same way (the schema, bench-app-0). Every row the
// import wrote (apps, add-ons, windows, attachments, maintenances, status changes) is read into
// memory first, then written into EMPTY in one transaction, as `import` writes (WAL,
// synchronous=FULL, foreign keys on, the 256 MB page cache its batches get; CACHE_KB in the
// environment sets another), through prepared statements with bound values: no parsing, no
// rules, no trail encoding or hashing, no Swift.
//
// ORDER: "lines" as import writes them, a line at a time (the app, add-on, window and
// attachments it creates, then its maintenance and status changes); "batches" the same 1,000
// lines a trail entry holds, table by table; "tables" whole tables in turn, as the INSERT ...
// SELECT baseline of bench/run.sh loads them. ROWS_PER_INSERT rows go in each INSERT (1: a
// statement per row; more: `INSERT ... VALUES (...), (...)`, prepared once per size). TRAIL 1
// also writes the trail entries and tree nodes the import wrote, after each 1,000 lines, as
// rows (their bytes as recorded). Prints the seconds of the inserts and of the commit.
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

typedef struct { int ncol; int nrow; sqlite3_value ***rows; const char *name; } Table;
enum { APPS, ADDONS, WINDOWS, ATTACH, MAINT, CHANGES, TRAIL, TREE, NT };
static const char *names[NT] = {"apps", "addons", "windows", "attachments", "maintenances", "maintenance_status_changes", "audit_trail", "trail_tree"};
static const char *wheres[NT] = {"id > 1", "1", "1", "1", "1", "1", "seq > 1", "1"};
static const char *orders[NT] = {"id", "id", "id", "id", "id", "id", "seq", "last_seq, level"};
static Table T[NT];

static void die(sqlite3 *db, const char *what) { fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db)); exit(1); }

static void load(sqlite3 *db, int t) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s ORDER BY %s", names[t], wheres[t], orders[t]);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, 0)) die(db, sql);
    Table *tb = &T[t];
    tb->name = names[t];
    tb->ncol = sqlite3_column_count(s);
    int cap = 1024;
    tb->rows = malloc(cap * sizeof *tb->rows);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (tb->nrow == cap) tb->rows = realloc(tb->rows, (cap *= 2) * sizeof *tb->rows);
        sqlite3_value **r = malloc(tb->ncol * sizeof *r);
        for (int c = 0; c < tb->ncol; c++) r[c] = sqlite3_value_dup(sqlite3_column_value(s, c));
        tb->rows[tb->nrow++] = r;
    }
    sqlite3_finalize(s);
}

static sqlite3 *out;
static int perInsert;
static sqlite3_stmt *cache[NT][1024];

static sqlite3_stmt *stmt(int t, int n) {
    if (cache[t][n]) return cache[t][n];
    size_t cap = 64 + (size_t)n * (T[t].ncol * 2 + 4) + 64;
    char *sql = malloc(cap);
    int len = sprintf(sql, "INSERT INTO %s VALUES ", names[t]);
    for (int i = 0; i < n; i++) {
        sql[len++] = i ? ',' : ' ';
        sql[len++] = '(';
        for (int c = 0; c < T[t].ncol; c++) { if (c) sql[len++] = ','; sql[len++] = '?'; }
        sql[len++] = ')';
    }
    sql[len] = 0;
    if (sqlite3_prepare_v3(out, sql, -1, SQLITE_PREPARE_PERSISTENT, &cache[t][n], 0)) die(out, sql);
    free(sql);
    return cache[t][n];
}

// Inserts rows idx[0..count) of table t, perInsert to a statement.
static void put(int t, const int *idx, int count) {
    for (int done = 0; done < count;) {
        int n = count - done < perInsert ? count - done : perInsert;
        sqlite3_stmt *s = stmt(t, n);
        int p = 1;
        for (int i = 0; i < n; i++) {
            sqlite3_value **r = T[t].rows[idx[done + i]];
            for (int c = 0; c < T[t].ncol; c++) sqlite3_bind_value(s, p++, r[c]);
        }
        if (sqlite3_step(s) != SQLITE_DONE) die(out, names[t]);
        sqlite3_reset(s);
        done += n;
    }
}

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static double cpu(void) { struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6; }

// Lists of row indexes, per batch and table.
typedef struct { int *v; int n, cap; } List;
static void push(List *l, int x) { if (l->n == l->cap) l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof(int)); l->v[l->n++] = x; }

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: import_floor IMPORTED EMPTY lines|batches|tables ROWS_PER_INSERT TRAIL\n"); return 64; }
    const char *order = argv[3];
    perInsert = atoi(argv[4]);
    if (perInsert < 1 || perInsert > 1000) { fprintf(stderr, "import_floor: ROWS_PER_INSERT is 1 to 1000\n"); return 64; }
    int trail = atoi(argv[5]);
    sqlite3 *in;
    if (sqlite3_open_v2(argv[1], &in, SQLITE_OPEN_READONLY, 0)) die(in, "open source");
    for (int t = 0; t < NT; t++) load(in, t);
    sqlite3_close(in);
    // Index rows by id (ids are dense from the first row's id).
    long minApp = T[APPS].nrow ? sqlite3_value_int64(T[APPS].rows[0][0]) : 0;
    long minAddon = sqlite3_value_int64(T[ADDONS].rows[0][0]);
    char *appDone = calloc(T[APPS].nrow + 1, 1), *addonDone = calloc(T[ADDONS].nrow + 1, 1);
    List *windowsOf = calloc(T[ADDONS].nrow, sizeof(List)), *attachOf = calloc(T[ADDONS].nrow, sizeof(List));
    for (int i = 0; i < T[WINDOWS].nrow; i++) push(&windowsOf[sqlite3_value_int64(T[WINDOWS].rows[i][1]) - minAddon], i);
    for (int i = 0; i < T[ATTACH].nrow; i++) push(&attachOf[sqlite3_value_int64(T[ATTACH].rows[i][2]) - minAddon], i);

    if (sqlite3_open(argv[2], &out)) die(out, "open target");
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas, "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%s; PRAGMA foreign_keys = ON;", getenv("CACHE_KB") ? getenv("CACHE_KB") : "262144");
    sqlite3_exec(out, pragmas, 0, 0, 0);
    double t0 = now(), c0 = cpu();
    if (sqlite3_exec(out, "BEGIN IMMEDIATE", 0, 0, 0)) die(out, "begin");
    int change = 0, entry = 0, tree = 0;
    List batch[NT] = {0};
    int lines = T[MAINT].nrow;
    for (int m = 0; m < lines; m++) {
        long addon = sqlite3_value_int64(T[MAINT].rows[m][2]) - minAddon;
        if (addon >= 0 && !addonDone[addon]) {
            addonDone[addon] = 1;
            long app = sqlite3_value_int64(T[ADDONS].rows[addon][6]) - minApp;
            if (app >= 0 && app < T[APPS].nrow && !appDone[app]) { appDone[app] = 1; push(&batch[APPS], (int)app); }
            push(&batch[ADDONS], (int)addon);
            for (int i = 0; i < windowsOf[addon].n; i++) push(&batch[WINDOWS], windowsOf[addon].v[i]);
            for (int i = 0; i < attachOf[addon].n; i++) push(&batch[ATTACH], attachOf[addon].v[i]);
        }
        push(&batch[MAINT], m);
        long mid = sqlite3_value_int64(T[MAINT].rows[m][0]);
        while (change < T[CHANGES].nrow && sqlite3_value_int64(T[CHANGES].rows[change][1]) == mid) push(&batch[CHANGES], change++);
        if (!strcmp(order, "lines")) {  // as import writes them, a line at a time
            for (int t = APPS; t <= CHANGES; t++) { put(t, batch[t].v, batch[t].n); batch[t].n = 0; }
        }
        if ((m + 1) % 1000 == 0 || m + 1 == lines) {
            if (trail && entry < T[TRAIL].nrow) {
                push(&batch[TRAIL], entry);
                long seq = sqlite3_value_int64(T[TRAIL].rows[entry++][0]);
                while (tree < T[TREE].nrow && sqlite3_value_int64(T[TREE].rows[tree][0]) == seq) push(&batch[TREE], tree++);
            }
            if (strcmp(order, "tables")) {
                for (int t = APPS; t < NT; t++) { put(t, batch[t].v, batch[t].n); batch[t].n = 0; }
            }
        }
    }
    for (int t = APPS; t < NT; t++) put(t, batch[t].v, batch[t].n);  // "tables": everything now
    double t1 = now(), c1 = cpu();
    if (sqlite3_exec(out, "COMMIT", 0, 0, 0)) die(out, "commit");
    double t2 = now(), c2 = cpu();
    printf("%s x%d trail=%d: inserts %.2f s (cpu %.2f), commit %.2f s (cpu %.2f), total %.2f s (cpu %.2f)\n", order, perInsert, trail,
           t1 - t0, c1 - c0, t2 - t1, c2 - c1, t2 - t0, c2 - c0);
    sqlite3_close(out);
    return 0;
}
