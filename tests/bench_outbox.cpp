// SPDX-License-Identifier: MIT
// outbox-bench: throughput, database work and memory of the engine, each measured against a baseline taken
// in the same run on the same machine. A program beside the tests, not a test. Prints one JSON object per
// scenario on stdout and a table on stderr.
//
//   outbox-bench [--scenario all|enqueue|relay|batch|ceiling|payload|retention|scale|memory|stock] [--runs 3] [--quick]
//   outbox-bench --scenario backlog [--quick]
//
// `ceiling` measures what the database allows a relayer: the claim and write-back statements alone (no HTTP),
// in batches of 100, and beside it the batched relayer to our own receiver, in the same run.
//
// `payload` measures large events (20 and 100 KiB) in MB/s: the raw insert of the same payloads, the ceiling
// and the batched relayer, with the payload beside the row (schema version 9) and in it (version 8's rows).
//
// `retention` drains a backlog with the batched relayer alone and again while `cleanup` deletes the sent
// events beside it, and records the longest wait for SQLite's write lock in both.
//
// `backlog` (not part of `all`) drains 10,000,000 due events with the running relayer and reports the rate and
// resident memory at each million: whether a large backlog drains at a flat rate.
//
// `stock` relays to receivers we did not write (a Node http server and nginx answering 202) and to our own,
// with 100 B to 100 KiB events in all three modes, over loopback and over a veth pair into a network
// namespace the benchmark makes (MTU 1500; skipped with a message where that is not permitted). For 100 B
// events in binary mode (one request per event), wrk (not ours) posts the same request to the same nginx with as
// many connections as the relayer keeps, on one thread, in the same run: the network's ceiling for that mode.
// For 100 B events in batch mode, the database's ceiling (as `ceiling` measures it) is measured in each run
// between the drains: the relayer's rate to Node and to nginx as a share of it.

#include "benchcommon.h"
#include "benchdrain.h"
#include "cloudevents.h"
#include "procstats.h"
#include "receiver.h"
#include "relayer.h"
#include "relaystore.h"
#include "sendevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>

#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

using namespace outbox;
using namespace bench;

namespace bench {

const QByteArray kPayload = R"({"order":1234,"customer":"c-42","amount":42.5,"items":[{"sku":"A-1","qty":2}]})";

QTemporaryDir *g_dir = nullptr;
int g_files = 0;
QList<QJsonObject> g_results;

// CPU time of the whole process (every thread, user and system), in microseconds.
qint64 processCpuUs()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return qint64(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

QString freshFile()
{
    return g_dir->filePath(QStringLiteral("bench-%1.db").arg(++g_files));
}

void report(QJsonObject o)
{
    g_results << o;
    std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

std::function<void()> g_atDeath;

void die(const QString &message)
{
    std::fprintf(stderr, "bench: %s\n", qPrintable(message));
    if (g_atDeath)
        g_atDeath();
    std::exit(1);
}

// Our receiver as a fast sink: it answers and counts, nothing more.
void listenCountingOnly(Receiver &receiver)
{
    receiver.setRecording(Receiver::Recording::CountOnly);
    if (Error e = receiver.listen())
        die(e.message());
}

// Creates an outbox file with the engine's schema and returns its path.
QString newOutbox()
{
    const QString path = freshFile();
    auto s = Storage::open(ConnectionSpec::sqlite(path));
    if (!s.isOk())
        die(s.error().message());
    return path;
}

} // namespace bench

namespace {

// The payload of the events a scenario writes (the payload scenario makes it larger for a while).
QByteArray g_payload = kPayload;

// How rawInsert lays an event out: as the engine does since schema version 9 (a payload over 1 KiB in
// outbox_payloads, the row's data column empty; to fill tables for the relay scenarios), or the whole event in
// one row (the baseline: what storing these bytes costs SQLite at its simplest).
enum class Layout { AsTheEngine, OneRow };
// How the relay scenarios fill their tables (the payload scenario also measures rows as version 8 wrote them).
Layout g_fill = Layout::AsTheEngine;

// The raw SQLite C API, statements prepared once, `perTransaction` rows per commit. Also used to fill tables
// quickly for the relay scenarios (status chosen per row).
double rawInsert(const QString &path, int count, int perTransaction, const char *status = "pending",
    Layout layout = Layout::AsTheEngine)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open(path.toUtf8().constData(), &db) != SQLITE_OK)
        die(QStringLiteral("sqlite3_open failed"));
    sqlite3_exec(
        db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000", nullptr, nullptr, nullptr);
    sqlite3_stmt *insert = nullptr;
    sqlite3_stmt *payload = nullptr;
    const bool beside = layout == Layout::AsTheEngine && g_payload.size() > 1024; // migrate-9.sql's rule
    const QByteArray sql =
        QByteArray("INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, "
                   "ordering_key, status,"
                   " attempts, next_attempt_at, created_at, replay_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '")
        + status + "', 0, ?, ?, ?)";
    if (sqlite3_prepare_v2(db, sql.constData(), -1, &insert, nullptr) != SQLITE_OK
        || (beside
            && sqlite3_prepare_v2(
                   db, "INSERT INTO outbox_payloads (seq, data) VALUES (last_insert_rowid(), ?)", -1, &payload, nullptr)
                != SQLITE_OK))
        die(QString::fromUtf8(sqlite3_errmsg(db)));
    const QByteArray data = g_payload;
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        if (i % perTransaction == 0)
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        const QByteArray id = createEventId().toLatin1();
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        sqlite3_bind_text(insert, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, "com.example.order.created", -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, "/bench", -1, SQLITE_STATIC);
        sqlite3_bind_null(insert, 4);
        sqlite3_bind_text(insert, 5, "application/json", -1, SQLITE_STATIC);
        sqlite3_bind_blob(insert, 6, beside ? "" : data.constData(), beside ? 0 : int(data.size()), SQLITE_STATIC);
        sqlite3_bind_null(insert, 7);
        sqlite3_bind_null(insert, 8);
        sqlite3_bind_int64(insert, 9, now);
        sqlite3_bind_int64(insert, 10, now);
        sqlite3_bind_null(insert, 11);
        if (sqlite3_step(insert) != SQLITE_DONE)
            die(QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_reset(insert);
        if (beside) {
            sqlite3_bind_blob(payload, 1, data.constData(), int(data.size()), SQLITE_STATIC);
            if (sqlite3_step(payload) != SQLITE_DONE)
                die(QString::fromUtf8(sqlite3_errmsg(db)));
            sqlite3_reset(payload);
        }
        if (i % perTransaction == perTransaction - 1 || i == count - 1)
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const double rate = count / (clock.nsecsElapsed() / 1e9);
    sqlite3_finalize(insert);
    sqlite3_finalize(payload);
    sqlite3_close(db);
    return rate;
}

double engineInsert(const QString &path, int count, int perTransaction)
{
    const QString name = QStringLiteral("bench-app-%1").arg(g_files);
    double rate = 0;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.open();
        QSqlQuery(db).exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        const SendEventOptions options = withContentType(QStringLiteral("application/json"));
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < count; ++i) {
            if (i % perTransaction == 0)
                db.transaction();
            auto id = sendEventTransactional(
                db, QStringLiteral("com.example.order.created"), QStringLiteral("/bench"), g_payload, options);
            if (!id.isOk())
                die(id.error().message());
            if (i % perTransaction == perTransaction - 1 || i == count - 1)
                db.commit();
        }
        rate = count / (clock.nsecsElapsed() / 1e9);
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return rate;
}

void scenarioEnqueue(int runs, bool quick)
{
    for (int perTransaction : {1, 100}) {
        const int count = perTransaction == 1 ? (quick ? 5000 : 20000) : (quick ? 20000 : 100000);
        QList<double> raw, engine;
        for (int r = 0; r < runs; ++r) {
            raw << rawInsert(newOutbox(), count, perTransaction, "pending", Layout::OneRow);
            engine << engineInsert(newOutbox(), count, perTransaction);
        }
        const double b = median(raw), e = median(engine);
        report(QJsonObject{{"scenario", "enqueue"}, {"events_per_transaction", perTransaction}, {"events", count},
            {"baseline", "raw SQLite C API"}, {"baseline_per_s", qRound(b)}, {"engine_per_s", qRound(e)},
            {"ratio", e / b}, {"target_ratio", perTransaction == 1 ? 0.75 : QJsonValue()}});
    }
}

} // namespace

namespace bench {

// A bare QNetworkAccessManager loop: the same requests, the same number in flight, the same receiver.
RelayRun bareNetworkRate(const QUrl &target, ContentMode mode, int count, int concurrency)
{
    OutboxEvent e;
    e.id = createEventId();
    e.type = QStringLiteral("com.example.order.created");
    e.source = QStringLiteral("/bench");
    e.contentType = QStringLiteral("application/json");
    e.data = kPayload;
    e.createdAt = QDateTime::currentDateTimeUtc();
    const HttpMessage message = cloudevents::encode(e, mode);
    QNetworkAccessManager network;
    int started = 0, finished = 0;
    QEventLoop loop;
    std::function<void()> startOne = [&] {
        QNetworkRequest request(target);
        request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        for (const auto &h : message.headers)
            request.setRawHeader(h.first, h.second);
        QNetworkReply *reply = network.post(request, message.body);
        ++started;
        QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply] {
            reply->deleteLater();
            if (++finished == count)
                loop.quit();
            else if (started < count)
                startOne();
        });
    };
    const qint64 cpuAtStart = processCpuUs();
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < concurrency && started < count; ++i)
        startOne();
    loop.exec();
    return {count / (clock.nsecsElapsed() / 1e9), double(processCpuUs() - cpuAtStart) / count};
}

} // namespace bench

namespace {

// Relays `due` pending events out of a table that holds `total` rows (the rest already sent).

// How to drive the relayer: running (start(), as a deployed relayer runs: it claims the next batch while
// the current one is still being sent) or one batch at a time with relayOnce() (which reports statements).
enum class Drive { Running, OneBatchAtATime };

RelayRun relayRate(Receiver &receiver, ContentMode mode, int due, int total, int batchSize,
    Drive drive = Drive::Running, const QString &filled = {}, const std::function<void()> &atStart = {})
{
    // `filled`: a file already holding the rows (then `total` is not used); `atStart`: called as the clock starts.
    QString path = filled;
    if (path.isEmpty()) {
        path = newOutbox();
        if (total > due)
            rawInsert(path, total - due, 50000, "sent", g_fill);
        rawInsert(path, due, 50000, "pending", g_fill);
    }
    RelayerConfig config;
    config.targetUrl = receiver.url();
    config.contentMode = mode;
    config.batchSize = batchSize;
    Relayer relayer(ConnectionSpec::sqlite(path), config);
    receiver.clear();
    int processed = 0, batches = 0;
    qint64 statements = 0;
    const qint64 cpuAtStart = processCpuUs();
    QElapsedTimer clock;
    clock.start();
    if (atStart)
        atStart();
    if (drive == Drive::Running) {
        if (Error e = relayer.start())
            die(e.message());
        while (receiver.eventCount() < due && clock.elapsed() < 600000) {
            QCoreApplication::processEvents();
            QThread::msleep(5);
        }
        processed = receiver.eventCount();
        relayer.stop();
    }
    while (processed < due) {
        const RelayOnceResult r = relayer.relayOnce();
        if (r.error)
            die(r.error.message());
        if (r.processed == 0)
            break;
        processed += r.processed;
        statements += r.statements;
        ++batches;
    }
    RelayRun run;
    run.rate = processed / (clock.nsecsElapsed() / 1e9);
    run.cpuUsPerEvent = double(processCpuUs() - cpuAtStart) / qMax(1, processed);
    run.statementsPerBatch = batches ? double(statements) / batches : 0;
    if (receiver.eventCount() != due)
        die(QStringLiteral("the receiver counted %1 events, expected %2").arg(receiver.eventCount()).arg(due));
    return run;
}

// Which half of the relay comparison to run: both, or one alone (to profile it).
enum class Side { Both, Baseline, Engine };

void scenarioRelay(int runs, bool quick, Side side, int events)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int count = events > 0 ? events : quick ? 10000 : 50000;
    for (ContentMode mode : {ContentMode::Binary, ContentMode::Structured}) {
        // Each run measures the baseline and then the engine, back to back; the ratio reported is the median
        // of the runs' ratios, so a slow spell of the machine weighs on both sides of a pair alike.
        QList<double> bare, relay, bareCpu, relayCpu, ratios;
        for (int r = 0; r < runs; ++r) {
            receiver.clear();
            const RelayRun baseline =
                side == Side::Engine ? RelayRun{} : bareNetworkRate(receiver.url(), mode, count, 6);
            const RelayRun engine = side == Side::Baseline ? RelayRun{} : relayRate(receiver, mode, count, count, 100);
            bare << baseline.rate;
            bareCpu << baseline.cpuUsPerEvent;
            relay << engine.rate;
            relayCpu << engine.cpuUsPerEvent;
            if (side == Side::Both)
                ratios << engine.rate / baseline.rate;
        }
        const double b = median(bare), e = median(relay);
        QJsonArray pairs;
        for (double x : std::as_const(ratios))
            pairs.append(std::round(x * 1000) / 1000);
        report(QJsonObject{{"scenario", "relay"}, {"mode", contentModeName(mode)}, {"events", count},
            {"concurrency", 6}, {"baseline", "bare QNetworkAccessManager loop"}, {"baseline_per_s", qRound(b)},
            {"engine_per_s", qRound(e)}, {"ratio", ratios.isEmpty() ? QJsonValue() : median(ratios)},
            {"run_ratios", pairs}, {"target_ratio", 0.9}, {"baseline_cpu_us_per_event", qRound(median(bareCpu))},
            {"engine_cpu_us_per_event", qRound(median(relayCpu))}});
    }
}

void scenarioBatch(int runs, bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int count = quick ? 20000 : 100000;
    for (int batch : {100, 1000}) {
        QList<double> rates, cpu;
        for (int r = 0; r < runs; ++r) {
            const RelayRun run = relayRate(receiver, ContentMode::Batch, count, count, batch);
            rates << run.rate;
            cpu << run.cpuUsPerEvent;
        }
        report(QJsonObject{{"scenario", "batch"}, {"batch_size", batch}, {"events", count},
            {"engine_per_s", qRound(median(rates))}, {"target_per_s", batch == 100 ? 50000 : QJsonValue()},
            {"cpu_us_per_event", median(cpu)}});
    }
    // Payloads and attributes intact: the same path with a receiver that keeps and checks everything.
    Receiver checking;
    if (Error e = checking.listen())
        die(e.message());
    const QString path = newOutbox();
    rawInsert(path, 1000, 1000);
    RelayerConfig config;
    config.targetUrl = checking.url();
    config.contentMode = ContentMode::Batch;
    Relayer relayer(ConnectionSpec::sqlite(path), config);
    while (relayer.relayOnce().processed > 0) { }
    int intact = 0;
    for (const ReceivedEvent &e : checking.events())
        intact += e.isValid() && e.event.data == kPayload && e.event.type == QLatin1String("com.example.order.created")
            ? 1
            : 0;
    report(QJsonObject{{"scenario", "batch_integrity"}, {"events", 1000}, {"intact", intact}});
}

} // namespace

namespace bench {

// The relayer's own statements alone, as fast as the database runs them: claim 100, write them back as sent,
// until none is due. No network, no relayer thread: what the database allows today's SQL, the ceiling a
// relayer can at best reach.
double databaseCeiling(int count, int batchSize)
{
    const QString path = newOutbox();
    rawInsert(path, count, 50000, "pending", g_fill);
    auto storage = Storage::open(ConnectionSpec::sqlite(path));
    if (!storage.isOk())
        die(storage.error().message());
    auto relay = detail::requireRelayStore(*storage.value());
    if (!relay.isOk())
        die(relay.error().message());
    detail::RelayStore *store = relay.value();
    const QString owner = QStringLiteral("ceiling@bench");
    int done = 0;
    QElapsedTimer clock;
    clock.start();
    while (done < count) {
        auto claimed = store->claim(owner, batchSize, 30000);
        if (!claimed.isOk())
            die(claimed.error().message());
        if (claimed.value().isEmpty())
            break;
        QList<detail::DeliveryRecord> records;
        records.reserve(claimed.value().size());
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (const OutboxEvent &e : claimed.value()) {
            detail::DeliveryRecord r;
            r.sequence = e.sequence;
            r.newStatus = EventStatus::Sent;
            r.attemptedAt = now;
            r.httpStatus = 202;
            r.durationMs = 1;
            records << r;
        }
        if (Error e = store->complete(owner, records))
            die(e.message());
        done += int(records.size());
    }
    const double rate = done / (clock.nsecsElapsed() / 1e9);
    if (done != count)
        die(QStringLiteral("the ceiling run claimed %1 events, expected %2").arg(done).arg(count));
    return rate;
}

} // namespace bench

namespace {

void scenarioCeiling(int runs, bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int count = quick ? 20000 : 100000;
    QList<double> ceilings, relays, ratios;
    for (int r = 0; r < runs; ++r) {
        const double ceiling = databaseCeiling(count, 100);
        const double relay = relayRate(receiver, ContentMode::Batch, count, count, 100).rate;
        ceilings << ceiling;
        relays << relay;
        ratios << relay / ceiling;
    }
    report(QJsonObject{{"scenario", "ceiling"}, {"events", count}, {"batch_size", 100},
        {"ceiling_per_s", qRound(median(ceilings))}, {"engine_per_s", qRound(median(relays))},
        {"ratio", median(ratios)}, {"target_ratio", 0.85}});
}

// Large events (issue target: 20 KiB at >= 0.5x the raw insert rate of the same payloads, in MB/s). For each
// size: storing the events at SQLite's simplest (one row each, 100 per transaction, raw C API); the relayer's
// claim and write-back alone (the database ceiling); the relayer batched to our counting receiver. Since
// schema version 9 the payload is written once, at enqueue, beside the row the relayer rewrites.
void scenarioPayload(int runs, bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    for (int kib : {20, 100}) {
        g_payload = "\"" + QByteArray(kib * 1024 - 2, 'x') + "\"";
        const int count = (quick ? 4000 : 20000) * 20 / kib;
        const double mb = g_payload.size() / 1e6;
        QList<double> raw, ceilings, relays, ratios, inlineCeilings, inlineRelays;
        for (int r = 0; r < runs; ++r) {
            raw << rawInsert(newOutbox(), count, 100, "pending", Layout::OneRow) * mb;
            ceilings << databaseCeiling(count, 100) * mb;
            relays << relayRate(receiver, ContentMode::Batch, count, count, 100).rate * mb;
            ratios << relays.last() / raw.last();
            // The same with each payload in its row, as schema version 8 kept it (and as rows other programs
            // insert straight into outbox_events are read still).
            g_fill = Layout::OneRow;
            inlineCeilings << databaseCeiling(count, 100) * mb;
            inlineRelays << relayRate(receiver, ContentMode::Batch, count, count, 100).rate * mb;
            g_fill = Layout::AsTheEngine;
        }
        report(QJsonObject{{"scenario", "payload"}, {"event_bytes", g_payload.size()}, {"events", count},
            {"raw_insert_mb_per_s", median(raw)}, {"ceiling_mb_per_s", median(ceilings)},
            {"engine_mb_per_s", median(relays)}, {"ratio", median(ratios)}, {"target_ratio", 0.5},
            {"payload_in_row_ceiling_mb_per_s", median(inlineCeilings)},
            {"payload_in_row_engine_mb_per_s", median(inlineRelays)}});
    }
    g_payload = kPayload;
}

// The longest a small write waited for SQLite's write lock, probing every 5 ms on its own connection (BEGIN
// IMMEDIATE, one row, COMMIT) until stop(). Waiting::AsAnApplication keeps SQLite's own busy handler (sleeps of
// 1, 2, 5 … 100 ms and tries again, with no queue): what an application's enqueue would wait, longer than any
// one holder keeps the lock. Waiting::Closely looks again every 100 µs, as our own connections nearly do: its
// longest wait is about the longest time another connection held the lock.
enum class Waiting { AsAnApplication, Closely };

int pollEvery100us(void *, int)
{
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    return 1;
}

class WriteProbe
{
public:
    WriteProbe(const QString &path, Waiting waiting)
    {
        m_thread = std::thread([this, path, waiting] {
            sqlite3 *db = nullptr;
            sqlite3_open(path.toUtf8().constData(), &db);
            sqlite3_exec(db, "PRAGMA busy_timeout=60000; CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)", nullptr,
                nullptr, nullptr);
            if (waiting == Waiting::Closely)
                sqlite3_busy_handler(db, pollEvery100us, nullptr);
            while (m_running) {
                QElapsedTimer t;
                t.start();
                sqlite3_exec(
                    db, "BEGIN IMMEDIATE; INSERT INTO bench_probe VALUES (1); COMMIT", nullptr, nullptr, nullptr);
                m_maxUs = qMax<qint64>(m_maxUs, t.nsecsElapsed() / 1000);
                QThread::msleep(5);
            }
            sqlite3_close(db);
        });
    }
    // Stops probing; the longest wait in ms.
    double stop()
    {
        m_running = false;
        m_thread.join();
        return m_maxUs / 1000.0;
    }

private:
    std::thread m_thread;
    std::atomic<bool> m_running{true};
    std::atomic<qint64> m_maxUs{0};
};

// `cleanup` of every sent row on a connection of its own, on a thread of its own; wait() gives its rows/s.
class CleanupThread
{
public:
    explicit CleanupThread(const QString &path)
    {
        m_clock.start();
        m_thread = std::thread([this, path] {
            auto storage = Storage::open(ConnectionSpec::sqlite(path));
            if (!storage.isOk())
                die(storage.error().message());
            const auto n = storage.value()->cleanup(QDateTime::currentDateTimeUtc().addSecs(60), {EventStatus::Sent});
            if (!n.isOk())
                die(n.error().message());
            m_rows = *n;
            m_ms = m_clock.elapsed();
        });
    }
    double wait()
    {
        m_thread.join();
        return m_rows / qMax(0.001, m_ms / 1000.0);
    }

private:
    QElapsedTimer m_clock;
    std::thread m_thread;
    int m_rows = 0;
    qint64 m_ms = 0;
};

// Retention while relaying (issue target: cleanup of 1,000,000 sent events costs a relayer at full speed
// <= 10 % of its rate, and never holds the write lock for more than 50 ms). The same file three times: the
// batched relayer drains `due` events alone; again with `cleanup` of the sent events running beside it on its
// own connection; and cleanup alone. Two probes record the longest wait for the write lock in each: one
// waiting as an application does, one looking again every 100 µs (with cleanup alone: its longest hold).
void scenarioRetention(int runs, bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int sent = quick ? 200000 : 1000000;
    const int due = quick ? 100000 : 300000;
    QList<double> alone, beside, ratios, appWaitAlone, appWaitBeside, closeWaitAlone, closeWaitBeside, cleanupRates,
        cleanupAloneRates, longestHolds;
    for (int r = 0; r < runs; ++r) {
        for (bool withCleanup : {false, true}) {
            const QString path = newOutbox();
            rawInsert(path, sent, 50000, "sent");
            rawInsert(path, due, 50000, "pending");
            WriteProbe app(path, Waiting::AsAnApplication);
            WriteProbe close(path, Waiting::Closely);
            std::optional<CleanupThread> cleaner;
            auto startCleanup = [&] {
                if (withCleanup)
                    cleaner.emplace(path);
            };
            const double rate =
                relayRate(receiver, ContentMode::Batch, due, 0, 100, Drive::Running, path, startCleanup).rate;
            const double appWait = app.stop();
            const double closeWait = close.stop();
            if (withCleanup) {
                cleanupRates << cleaner->wait();
                beside << rate;
                appWaitBeside << appWait;
                closeWaitBeside << closeWait;
                ratios << rate / alone.last();
            } else {
                alone << rate;
                appWaitAlone << appWait;
                closeWaitAlone << closeWait;
            }
        }
        // Cleanup alone, beside one close probe (whose writes count as another writer: cleanup paces itself).
        const QString path = newOutbox();
        rawInsert(path, sent, 50000, "sent");
        WriteProbe close(path, Waiting::Closely);
        CleanupThread cleaner(path);
        cleanupAloneRates << cleaner.wait();
        longestHolds << close.stop();
    }
    report(QJsonObject{{"scenario", "retention"}, {"sent_rows", sent}, {"due", due},
        {"relay_alone_per_s", qRound(median(alone))}, {"relay_with_cleanup_per_s", qRound(median(beside))},
        {"ratio", median(ratios)}, {"target_ratio", 0.9}, {"cleanup_rows_per_s", qRound(median(cleanupRates))},
        {"cleanup_alone_rows_per_s", qRound(median(cleanupAloneRates))},
        {"cleanup_longest_hold_ms", median(longestHolds)}, {"target_longest_hold_ms", 50},
        {"app_max_write_wait_ms_alone", median(appWaitAlone)},
        {"app_max_write_wait_ms_with_cleanup", median(appWaitBeside)},
        {"close_max_write_wait_ms_alone", median(closeWaitAlone)},
        {"close_max_write_wait_ms_with_cleanup", median(closeWaitBeside)}});
}

void scenarioScale(bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int due = 10000;
    QList<int> sizes{10000, 100000, 1000000};
    if (quick)
        sizes = {10000, 100000};
    double base = 0;
    for (int total : sizes) {
        const RelayRun run = relayRate(receiver, ContentMode::Batch, due, total, 100, Drive::OneBatchAtATime);
        if (base == 0)
            base = run.rate;
        report(QJsonObject{{"scenario", "scale"}, {"rows_in_table", total}, {"due", due},
            {"engine_per_s", qRound(run.rate)}, {"ratio_to_10k", run.rate / base},
            {"statements_per_batch", run.statementsPerBatch}});
    }
}

void scenarioMemory(bool quick)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int total = quick ? 200000 : 1000000;
    const QString path = newOutbox();
    rawInsert(path, total, 50000);
    RelayerConfig config;
    config.targetUrl = receiver.url();
    config.contentMode = ContentMode::Batch;
    config.batchSize = 1000;
    Relayer relayer(ConnectionSpec::sqlite(path), config);
    if (Error e = relayer.start())
        die(e.message());
    qint64 at100k = 0;
    QElapsedTimer clock;
    clock.start();
    while (receiver.eventCount() < total && clock.elapsed() < 900000) {
        QCoreApplication::processEvents();
        QThread::msleep(5);
        if (at100k == 0 && receiver.eventCount() >= 100000)
            at100k = procstats::residentKiB();
    }
    relayer.stop();
    if (receiver.eventCount() < total)
        die(QStringLiteral("relay stopped early at %1 events").arg(receiver.eventCount()));
    const qint64 atEnd = procstats::residentKiB();
    report(QJsonObject{{"scenario", "memory"}, {"events", total}, {"rss_kib_at_100k", at100k},
        {"rss_kib_at_end", atEnd}, {"growth", double(atEnd) / double(at100k) - 1.0}, {"target_growth", 0.10}});
}

// A backlog of 10,000,000 due events of 100 B (issue target: drained at a flat rate, the last million >= 0.9x
// the first, the relayer's resident memory flat). The batched relayer at its default settings, running, to the
// counting receiver; the time and resident memory at each million. The baseline is its own first million.
void scenarioBacklog(bool quick, const QString &keep)
{
    Receiver receiver;
    listenCountingOnly(receiver);
    const int total = quick ? 1000000 : 10000000;
    const int step = total / 10;
    const QString path = newOutbox();
    rawInsert(path, total, 100000);
    RelayerConfig config;
    config.targetUrl = receiver.url();
    config.contentMode = ContentMode::Batch;
    Relayer relayer(ConnectionSpec::sqlite(path), config);
    QList<double> rates;
    QJsonArray perStep, rssPerStep;
    QElapsedTimer clock;
    clock.start();
    if (Error e = relayer.start())
        die(e.message());
    qint64 lastNs = 0;
    int nextMark = step;
    while (receiver.eventCount() < total && clock.elapsed() < 3600000) {
        QCoreApplication::processEvents();
        QThread::msleep(5);
        while (receiver.eventCount() >= nextMark) {
            const qint64 ns = clock.nsecsElapsed();
            rates << step / ((ns - lastNs) / 1e9);
            perStep.append(qRound(rates.last()));
            rssPerStep.append(procstats::residentKiB());
            lastNs = ns;
            nextMark += step;
        }
    }
    relayer.stop();
    if (receiver.eventCount() < total)
        die(QStringLiteral("relay stopped early at %1 events").arg(receiver.eventCount()));
    if (!keep.isEmpty()) { // the drained outbox, for outbox-console-bench --db: its WAL folded in first
        sqlite3 *db = nullptr;
        sqlite3_open(path.toUtf8().constData(), &db);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
        sqlite3_close(db);
        QFile::remove(keep);
        if (!QFile::rename(path, keep) && !QFile::copy(path, keep))
            die(QStringLiteral("cannot keep the outbox at %1").arg(keep));
    }
    report(QJsonObject{{"scenario", "backlog"}, {"events", total}, {"step", step},
        {"first_step_per_s", qRound(rates.first())}, {"last_step_per_s", qRound(rates.last())},
        {"ratio", rates.last() / rates.first()}, {"target_ratio", 0.9},
        {"slowest_step_per_s", qRound(*std::min_element(rates.cbegin(), rates.cend()))},
        {"overall_per_s", qRound(total / (lastNs / 1e9))}, {"per_step_per_s", perStep},
        {"rss_kib_per_step", rssPerStep}});
}

QString describe(const QJsonObject &o)
{
    const QString s = o.value("scenario").toString();
    auto n = [&](const char *k) { return QString::number(o.value(QLatin1String(k)).toDouble(), 'f', 0); };
    auto r = [&](const char *k) { return QString::number(o.value(QLatin1String(k)).toDouble(), 'f', 2); };
    if (s == QLatin1String("enqueue"))
        return QStringLiteral("enqueue, %1/txn: %2/s vs raw C API %3/s = %4x")
            .arg(n("events_per_transaction"), n("engine_per_s"), n("baseline_per_s"), r("ratio"));
    if (s == QLatin1String("relay"))
        return QStringLiteral(
            "relay %1: %2/s vs bare QNAM %3/s, median of the runs' ratios %4x (CPU per event %5 vs %6 us)")
            .arg(o.value("mode").toString(), n("engine_per_s"), n("baseline_per_s"), r("ratio"),
                n("engine_cpu_us_per_event"), n("baseline_cpu_us_per_event"));
    if (s == QLatin1String("batch"))
        return QStringLiteral("relay batch of %1: %2/s (CPU per event %3 us)")
            .arg(n("batch_size"), n("engine_per_s"), r("cpu_us_per_event"));
    if (s == QLatin1String("ceiling"))
        return QStringLiteral("database ceiling (claim + write-back alone, batches of %1): %2/s; relayer batched to "
                              "our receiver %3/s = %4x of it")
            .arg(n("batch_size"), n("ceiling_per_s"), n("engine_per_s"), r("ratio"));
    if (s == QLatin1String("payload"))
        return QStringLiteral("%1 B events: raw insert %2 MB/s, ceiling (claim + write-back) %3 MB/s, relayer batched "
                              "%4 MB/s = %5x of the raw insert")
                   .arg(n("event_bytes"), r("raw_insert_mb_per_s"), r("ceiling_mb_per_s"), r("engine_mb_per_s"),
                       r("ratio"))
            + QStringLiteral("; payload in the row: ceiling %1 MB/s, relayer %2 MB/s")
                  .arg(r("payload_in_row_ceiling_mb_per_s"), r("payload_in_row_engine_mb_per_s"));
    if (s == QLatin1String("retention"))
        return QStringLiteral("retention: relayer %1/s alone, %2/s while cleanup deletes %3 sent rows (%4 rows/s) = "
                              "%5x; cleanup alone %6 rows/s, its longest hold of the write lock %7 ms; longest "
                              "wait of an application's write %8 ms alone, %9 ms with cleanup")
                   .arg(n("relay_alone_per_s"), n("relay_with_cleanup_per_s"), n("sent_rows"), n("cleanup_rows_per_s"),
                       r("ratio"), n("cleanup_alone_rows_per_s"), r("cleanup_longest_hold_ms"),
                       r("app_max_write_wait_ms_alone"), r("app_max_write_wait_ms_with_cleanup"))
            + QStringLiteral(" (looking every 100 µs: %1 ms, %2 ms)")
                  .arg(r("close_max_write_wait_ms_alone"), r("close_max_write_wait_ms_with_cleanup"));
    if (s == QLatin1String("batch_integrity"))
        return QStringLiteral("batch integrity: %1 of %2 events intact").arg(n("intact"), n("events"));
    if (s == QLatin1String("scale"))
        return QStringLiteral("%1 rows in table: %2/s (%3x of 10k), %4 statements/batch")
            .arg(n("rows_in_table"), n("engine_per_s"), r("ratio_to_10k"), r("statements_per_batch"));
    if (s == QLatin1String("stock")) {
        QString line = QStringLiteral("%1 %2, %3 B: Node %4/s, nginx %5/s")
                           .arg(o.value("link").toString(), o.value("mode").toString(), n("event_bytes"),
                               n("node_per_s"), n("nginx_per_s"));
        if (o.contains("own_receiver_per_s"))
            line += QStringLiteral(", own receiver %1/s (Node/own %2x)")
                        .arg(n("own_receiver_per_s"), r("node_to_own_ratio"));
        if (o.contains("bare_qnam_to_node_per_s"))
            line += QStringLiteral(", bare QNAM to Node %1/s (engine/bare %2x)")
                        .arg(n("bare_qnam_to_node_per_s"), r("node_to_bare_qnam_ratio"));
        if (o.contains("wrk_to_nginx_per_s"))
            line += QStringLiteral(", wrk to nginx %1/s (engine/wrk %2x)")
                        .arg(n("wrk_to_nginx_per_s"), r("nginx_to_wrk_ratio"));
        if (o.contains("ceiling_per_s"))
            line += QStringLiteral("; database ceiling %1/s (Node %2x, nginx %3x of it)")
                        .arg(n("ceiling_per_s"), r("node_to_ceiling_ratio"), r("nginx_to_ceiling_ratio"));
        return line;
    }
    if (s == QLatin1String("backlog")) {
        const QJsonArray rss = o.value("rss_kib_per_step").toArray();
        return QStringLiteral("backlog of %1 events: first %2 %3/s, last %2 %4/s = %5x (slowest %6/s, overall "
                              "%7/s); resident %8 KiB after the first, %9 KiB after the last")
            .arg(n("events"), n("step"), n("first_step_per_s"), n("last_step_per_s"), r("ratio"),
                n("slowest_step_per_s"), n("overall_per_s"), QString::number(rss.first().toDouble(), 'f', 0),
                QString::number(rss.last().toDouble(), 'f', 0));
    }
    if (s == QLatin1String("memory"))
        return QStringLiteral("memory over %1 events: %2 KiB at 100k, %3 KiB at end (%4 growth)")
            .arg(n("events"), n("rss_kib_at_100k"), n("rss_kib_at_end"), r("growth"));
    return s;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({"scenario",
        "all, enqueue, relay, batch, ceiling, payload, retention, scale, memory or stock; or backlog (not in "
        "all: 10,000,000 events).",
        "name", "all"});
    parser.addOption({"runs", "Runs per figure; the median is reported (default 3).", "n", "3"});
    parser.addOption({"quick", "Smaller counts, for a smoke run."});
    parser.addOption({"side", "relay only: both, baseline or engine (one side alone, to profile it).", "side", "both"});
    parser.addOption({"events", "relay only: events per run (default 50000, 10000 with --quick).", "n", "0"});
    parser.addOption(
        {"keep", "backlog only: keep the drained outbox at this path (for outbox-console-bench --db).", "file"});
    parser.addOption(
        {"links", "stock only: loopback, veth or both (comma-separated; default both).", "list", "loopback,veth"});
    parser.addOption({"sizes", "stock only: event sizes in bytes (comma-separated; default 100,8192,20480,102400).",
        "list", "100,8192,20480,102400"});
    parser.process(app);
    QTemporaryDir dir;
    g_dir = &dir;
    const QString scenario = parser.value("scenario");
    const int runs = qMax(1, parser.value("runs").toInt());
    const bool quick = parser.isSet("quick");
    const bool all = scenario == QLatin1String("all");
    if (all || scenario == QLatin1String("enqueue"))
        scenarioEnqueue(runs, quick);
    if (all || scenario == QLatin1String("relay"))
        scenarioRelay(runs, quick,
            parser.value("side") == QLatin1String("baseline")     ? Side::Baseline
                : parser.value("side") == QLatin1String("engine") ? Side::Engine
                                                                  : Side::Both,
            parser.value("events").toInt());
    if (all || scenario == QLatin1String("batch"))
        scenarioBatch(runs, quick);
    if (all || scenario == QLatin1String("ceiling"))
        scenarioCeiling(runs, quick);
    if (all || scenario == QLatin1String("payload"))
        scenarioPayload(runs, quick);
    if (all || scenario == QLatin1String("retention"))
        scenarioRetention(runs, quick);
    if (all || scenario == QLatin1String("scale"))
        scenarioScale(quick);
    if (all || scenario == QLatin1String("memory"))
        scenarioMemory(quick);
    if (scenario == QLatin1String("backlog"))
        scenarioBacklog(quick, parser.value("keep"));
    if (all || scenario == QLatin1String("stock")) {
        QList<int> sizes;
        for (const QString &size : parser.value("sizes").split(QLatin1Char(',')))
            sizes << qMax(10, size.toInt());
        scenarioStock(runs, quick, parser.value("links").split(QLatin1Char(',')), sizes);
    }
    std::fprintf(stderr, "\n%d cores; medians of %d runs\n", QThread::idealThreadCount(), runs);
    for (const QJsonObject &o : std::as_const(g_results))
        std::fprintf(stderr, "  %s\n", qPrintable(describe(o)));
    return 0;
}
