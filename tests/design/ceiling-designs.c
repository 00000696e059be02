// SPDX-License-Identifier: MIT
// The throughput issue's next step, measured before it is built: the claim and the write-back of a SQLite
// outbox in four table designs, with the SQLite C API alone (no Qt, no relayer), alternating in one run.
//   today        the engine's statements: the claim rewrites each event row (lease columns; the lease is the
//                row's next attempt, so the row moves in the due index), the write-back rewrites it again
//                (status, outcome columns; the row moves in the status index)
//   queue        a narrow queue row per undelivered event (seq, next attempt, lease) with the due index; the
//                claim leases queue rows, the write-back of a delivery deletes the queue row and appends a
//                narrow outcome row; the event row is never rewritten for a delivery
//   batch-claims today's table, but one claim row per batch (owner, expiry, the sequences as JSON) instead of
//                a lease written into each event row; the write-back still rewrites the event row
//   queue+claims both: the claim writes one row per batch, the write-back deletes queue rows and appends
//                outcome rows
//   queue-lease  the queue row for the claim alone: the write-back deletes the queue row and still rewrites
//                the event row (status, outcome columns), so every reader of the row's status stays as it is
// Usage: ceiling-designs OUTBOXCTL FILE EVENTS RUNS DESIGN... (OUTBOXCTL makes the schema: `init`).
// CEILING_GROUP=N writes each batch back N events at a time (default 100, as batch mode does; one request per
// event writes back about as many as are in flight, 6 by default).
// Prints events/s per run and the median of each design with its ratio to `today`.
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum Design { Today, Queue, BatchClaims, QueueClaims, QueueLease };
static const char *const kNames[] = {"today", "queue", "batch-claims", "queue+claims", "queue-lease"};
enum { kDesigns = 5 };
static int g_group = 100; // events per write-back (CEILING_GROUP): 100 as in batch mode, fewer as one request each

static sqlite3 *db;
static long long sink; // what was read, so that reading is not optimised away

static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long long nowMs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die(const char *what)
{
    fprintf(stderr, "ceiling-designs: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static void run(const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(sql);
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        die(sql);
    return s;
}

// Steps to the end; returns the rows, reading each (as the relayer reads an event's columns).
static int stepAll(sqlite3_stmt *s, long long *firstColumn, int max)
{
    int rows = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
            switch (sqlite3_column_type(s, i)) {
            case SQLITE_INTEGER:
                sink += sqlite3_column_int64(s, i);
                break;
            case SQLITE_TEXT:
                sink += (long long)(size_t)sqlite3_column_text(s, i) + sqlite3_column_bytes(s, i);
                break;
            case SQLITE_BLOB:
                sink += (long long)(size_t)sqlite3_column_blob(s, i) + sqlite3_column_bytes(s, i);
                break;
            default:
                break;
            }
        }
        if (firstColumn && rows < max)
            firstColumn[rows] = sqlite3_column_int64(s, 0);
        ++rows;
    }
    if (rc != SQLITE_DONE)
        die("step");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rows;
}

#define COLUMNS                                                                                                        \
    "seq, id, type, source, subject, content_type, data, extensions, ordering_key, status, attempts, "                 \
    "next_attempt_at, lease_owner, lease_expires_at, last_error, last_http_status, created_at, sent_at, replay_of"
#define HEAD_OF_KEY                                                                                                    \
    " AND (e.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key = "                \
    "e.ordering_key AND p.status <> 'sent' AND p.seq < e.seq))"

static void setUp(const char *outboxctl, const char *path, enum Design d, int events)
{
    char command[4096];
    snprintf(command, sizeof command, "rm -f '%s' '%s-wal' '%s-shm' && '%s' --db 'sqlite://%s' init >/dev/null", path,
        path, path, outboxctl, path);
    if (system(command) != 0) {
        fprintf(stderr, "ceiling-designs: cannot make the outbox with %s\n", outboxctl);
        exit(1);
    }
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path);
    run("PRAGMA journal_mode=WAL");
    run("PRAGMA synchronous=NORMAL");
    run("PRAGMA temp_store=MEMORY");
    run("BEGIN");
    sqlite3_stmt *insert = prepare("INSERT INTO outbox_enqueue (id, type, source, data, next_attempt_at, created_at) "
                                   "VALUES (?, 'com.example.order.created', '/bench', ?, ?, ?)");
    char data[100];
    memset(data, ' ', sizeof data);
    memcpy(data, "{\"order\":1,\"total\":42.5}", 24);
    const long long due = nowMs() - 1000;
    for (int i = 0; i < events; ++i) {
        char id[32];
        snprintf(id, sizeof id, "id-%09d", i);
        sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 2, data, (int)sizeof data, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 3, due);
        sqlite3_bind_int64(insert, 4, due);
        stepAll(insert, NULL, 0);
    }
    sqlite3_finalize(insert);
    if (d == Queue || d == QueueClaims || d == QueueLease) {
        run("CREATE TABLE outbox_queue (seq INTEGER PRIMARY KEY, next_attempt_at INTEGER NOT NULL, lease_owner TEXT, "
            "lease_expires_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0)");
        run("CREATE INDEX outbox_queue_due ON outbox_queue(next_attempt_at, seq)");
        run("CREATE TABLE outbox_sent (seq INTEGER PRIMARY KEY, sent_at INTEGER NOT NULL, http_status INTEGER, "
            "duration_ms INTEGER, relayer TEXT, attempts INTEGER)");
        run("INSERT INTO outbox_queue (seq, next_attempt_at) SELECT seq, next_attempt_at FROM outbox_events");
    }
    if (d == BatchClaims || d == QueueClaims)
        run("CREATE TABLE outbox_claims (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, expires INTEGER NOT NULL, "
            "seqs TEXT NOT NULL)");
    run("COMMIT");
    run("PRAGMA wal_checkpoint(TRUNCATE)");
}

struct Batch
{
    long long claim;
    int size;
    long long seq[100];
};

// Writes the batch's sequences as a JSON list: [1,2,...] or, with outcomes, [[1,202,1],...].
static void toJson(const struct Batch *b, int outcomes, char *out)
{
    int p = 0;
    out[p++] = '[';
    for (int i = 0; i < b->size; ++i)
        p += sprintf(out + p, outcomes ? "%s[%lld,202,1]" : "%s%lld", i ? "," : "", b->seq[i]);
    out[p++] = ']';
    out[p] = 0;
}

// One relayer with two batches in hand (as the HTTP transport keeps them): claim, claim, write back the
// first, claim, write back the next ... until nothing is due. Returns events/s.
static double measure(const char *outboxctl, const char *path, enum Design d, int events)
{
    setUp(outboxctl, path, d, events);
    const int claimsRows = d == BatchClaims || d == QueueClaims;
    const int queue = d == Queue || d == QueueClaims;
    const int leaseQueue = d == QueueLease;
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *claim, *read = NULL, *writeBack = NULL, *append = NULL, *expire = NULL, *hold = NULL, *drop = NULL;
    if (d == Today)
        claim = prepare("UPDATE outbox_events SET lease_owner = ?1, lease_expires_at = ?2, next_attempt_at = ?2 WHERE "
                        "seq IN (SELECT e.seq FROM outbox_events e INDEXED BY outbox_events_due WHERE e.status = "
                        "'pending' AND e.next_attempt_at <= ?3" HEAD_OF_KEY
                        " ORDER BY e.next_attempt_at, e.seq LIMIT 100) RETURNING " COLUMNS);
    else if (d == BatchClaims)
        claim = prepare("SELECT " COLUMNS " FROM outbox_events e INDEXED BY outbox_events_due WHERE e.status = "
                        "'pending' AND e.next_attempt_at <= ?3 AND e.seq NOT IN (SELECT value FROM outbox_claims c, "
                        "json_each(c.seqs))" HEAD_OF_KEY " ORDER BY e.next_attempt_at, e.seq LIMIT 100");
    else if (d == Queue || d == QueueLease)
        claim = prepare("UPDATE outbox_queue SET lease_owner = ?1, lease_expires_at = ?2, next_attempt_at = ?2 WHERE "
                        "seq IN (SELECT q.seq FROM outbox_queue q INDEXED BY outbox_queue_due WHERE "
                        "q.next_attempt_at <= ?3 ORDER BY q.next_attempt_at, q.seq LIMIT 100) RETURNING seq");
    else
        claim = prepare("SELECT q.seq FROM outbox_queue q INDEXED BY outbox_queue_due WHERE q.next_attempt_at <= ?3 "
                        "AND q.seq NOT IN (SELECT value FROM outbox_claims c, json_each(c.seqs)) ORDER BY "
                        "q.next_attempt_at, q.seq LIMIT 100");
    if (leaseQueue) {
        read = prepare("SELECT " COLUMNS " FROM outbox_events WHERE seq IN (SELECT value FROM json_each(?1))");
        writeBack = prepare("DELETE FROM outbox_queue WHERE seq IN (SELECT value->>0 FROM json_each(?1)) AND lease_owner "
                            "= ?2 RETURNING seq");
        append = prepare("UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, last_error = NULL, "
                         "last_http_status = r.h, sent_at = ?3, last_duration_ms = r.d, last_relayer = ?2 FROM "
                         "(SELECT value->>0 AS s, value->>1 AS h, value->>2 AS d FROM json_each(?1)) AS r WHERE "
                         "outbox_events.seq = r.s");
    } else if (queue) {
        read = prepare("SELECT " COLUMNS " FROM outbox_events WHERE seq IN (SELECT value FROM json_each(?1))");
        writeBack = prepare(d == Queue ? "DELETE FROM outbox_queue WHERE seq IN (SELECT value->>0 FROM json_each(?1)) "
                                         "AND lease_owner = ?2 RETURNING seq"
                                       : "DELETE FROM outbox_queue WHERE seq IN (SELECT value->>0 FROM json_each(?1)) "
                                         "RETURNING seq");
        append = prepare("INSERT INTO outbox_sent (seq, sent_at, http_status, duration_ms, relayer, attempts) SELECT "
                         "value->>0, ?3, value->>1, value->>2, ?2, 1 FROM json_each(?1)");
    } else {
        writeBack = prepare(d == Today
                ? "UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, next_attempt_at = ?3, "
                  "lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = r.h, "
                  "sent_at = ?3, last_duration_ms = r.d, last_relayer = ?2 FROM (SELECT value->>0 AS s, "
                  "value->>1 AS h, value->>2 AS d FROM json_each(?1)) AS r WHERE outbox_events.seq = r.s AND "
                  "outbox_events.lease_owner = ?2 RETURNING outbox_events.seq"
                : "UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, last_error = NULL, "
                  "last_http_status = r.h, sent_at = ?3, last_duration_ms = r.d, last_relayer = ?2 FROM "
                  "(SELECT value->>0 AS s, value->>1 AS h, value->>2 AS d FROM json_each(?1)) AS r WHERE "
                  "outbox_events.seq = r.s AND +outbox_events.status = 'pending' RETURNING outbox_events.seq");
    }
    if (claimsRows) {
        expire = prepare("DELETE FROM outbox_claims WHERE expires <= ?1");
        hold = prepare("INSERT INTO outbox_claims (owner, expires, seqs) VALUES (?1, ?2, ?3) RETURNING id");
        drop = prepare("DELETE FROM outbox_claims WHERE id = ?1 AND owner = ?2 RETURNING id");
    }
    const char *owner = "ceiling@bench";
    struct Batch inHand[2];
    int held = 0, drained = 0, written = 0;
    char json[8192];
    const double start = monotonic();
    for (;;) {
        const long long now = nowMs();
        while (!drained && held < 2) {
            struct Batch *b = &inHand[held];
            b->claim = 0;
            stepAll(begin, NULL, 0);
            if (expire) {
                sqlite3_bind_int64(expire, 1, now);
                stepAll(expire, NULL, 0);
            }
            if (d == Today || d == Queue || d == QueueLease) {
                sqlite3_bind_text(claim, 1, owner, -1, SQLITE_STATIC);
                sqlite3_bind_int64(claim, 2, now + 30000);
            }
            sqlite3_bind_int64(claim, 3, now);
            b->size = stepAll(claim, b->seq, 100);
            if (b->size > 0 && (read || hold))
                toJson(b, 0, json);
            if (b->size > 0 && read) {
                sqlite3_bind_text(read, 1, json, -1, SQLITE_STATIC);
                if (stepAll(read, NULL, 0) != b->size)
                    die("read");
            }
            if (b->size > 0 && hold) {
                long long id = 0;
                sqlite3_bind_text(hold, 1, owner, -1, SQLITE_STATIC);
                sqlite3_bind_int64(hold, 2, now + 30000);
                sqlite3_bind_text(hold, 3, json, -1, SQLITE_STATIC);
                stepAll(hold, &id, 1);
                b->claim = id;
            }
            stepAll(commit, NULL, 0);
            if (b->size == 0)
                drained = 1;
            else
                ++held;
        }
        if (held == 0)
            break;
        const struct Batch whole = inHand[0];
        inHand[0] = inHand[1];
        --held;
        for (int from = 0; from < whole.size; from += g_group) {
            struct Batch b = whole;
            b.size = whole.size - from < g_group ? whole.size - from : g_group;
            memcpy(b.seq, whole.seq + from, sizeof(long long) * (size_t)b.size);
            toJson(&b, 1, json);
            // A write-back of deliveries alone is one statement (as the engine does it) unless it writes two.
            const int transaction = drop || append;
            if (transaction)
                stepAll(begin, NULL, 0);
            if (drop && from + b.size == whole.size) {
                long long id = 0;
                sqlite3_bind_int64(drop, 1, b.claim);
                sqlite3_bind_text(drop, 2, owner, -1, SQLITE_STATIC);
                if (stepAll(drop, &id, 1) != 1)
                    die("the claim row is gone");
            }
            sqlite3_bind_text(writeBack, 1, json, -1, SQLITE_STATIC);
            if (d == Today || d == Queue || d == QueueLease)
                sqlite3_bind_text(writeBack, 2, owner, -1, SQLITE_STATIC);
            if (!queue && !leaseQueue) {
                sqlite3_bind_text(writeBack, 2, owner, -1, SQLITE_STATIC);
                sqlite3_bind_int64(writeBack, 3, now);
            }
            if (stepAll(writeBack, NULL, 0) != b.size)
                die("write-back");
            if (append) {
                sqlite3_bind_text(append, 1, json, -1, SQLITE_STATIC);
                sqlite3_bind_text(append, 2, owner, -1, SQLITE_STATIC);
                sqlite3_bind_int64(append, 3, now);
                stepAll(append, NULL, 0);
            }
            if (transaction)
                stepAll(commit, NULL, 0);
            written += b.size;
        }
    }
    const double rate = written / (monotonic() - start);
    if (written != events)
        die("not every event was written back");
    sqlite3_stmt *all[] = {begin, commit, claim, read, writeBack, append, expire, hold, drop};
    for (size_t i = 0; i < sizeof all / sizeof *all; ++i)
        sqlite3_finalize(all[i]);
    sqlite3_close(db);
    db = NULL;
    return rate;
}

static int byValue(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr,
            "usage: ceiling-designs OUTBOXCTL FILE EVENTS RUNS DESIGN... (today, queue, batch-claims, "
            "queue+claims)\n");
        return 2;
    }
    const int events = atoi(argv[3]), runs = atoi(argv[4]), designs = argc - 5;
    if (events <= 0 || runs <= 0 || runs > 20)
        return 2;
    if (getenv("CEILING_GROUP"))
        g_group = atoi(getenv("CEILING_GROUP"));
    if (g_group <= 0 || g_group > 100)
        return 2;
    enum Design chosen[kDesigns];
    double rates[kDesigns][20];
    for (int i = 0; i < designs && i < kDesigns; ++i) {
        int found = -1;
        for (int k = 0; k < kDesigns; ++k)
            if (strcmp(argv[5 + i], kNames[k]) == 0)
                found = k;
        if (found < 0) {
            fprintf(stderr, "ceiling-designs: no design '%s'\n", argv[5 + i]);
            return 2;
        }
        chosen[i] = (enum Design)found;
    }
    for (int r = 0; r < runs; ++r) {
        for (int i = 0; i < designs && i < kDesigns; ++i) {
            rates[i][r] = measure(argv[1], argv[2], chosen[i], events);
            printf("run %d %-13s %8.0f events/s\n", r + 1, kNames[chosen[i]], rates[i][r]);
            fflush(stdout);
        }
    }
    double base = 0;
    for (int i = 0; i < designs && i < kDesigns; ++i) {
        qsort(rates[i], (size_t)runs, sizeof(double), byValue);
        const double median = rates[i][runs / 2];
        if (i == 0)
            base = median;
        printf("median %-13s %8.0f events/s  %.2fx the first\n", kNames[chosen[i]], median, median / base);
    }
    return sink == 42 ? 3 : 0;
}
