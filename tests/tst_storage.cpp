// SPDX-License-Identifier: MIT
// The outbox tables: transactional enqueue, claims and leases, operator actions, paging and filters.

#include "dialect.h"
#include "fix.h"
#include "search.h"
#include "sendevent.h"
#include "storage.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QElapsedTimer>
#include <QThread>

#include <atomic>
#include <thread>

using namespace outbox;
using outbox::detail::DeliveryRecord;
using testsupport::AppConnection;
using testsupport::relay;

// Holds SQLite's write lock on a connection of its own, on a thread of its own: holdMs at a time, with 1 ms
// between two transactions, until stop() (which says how many times it held it).
class LockHolder
{
public:
    LockHolder(const ConnectionSpec &spec, int holdMs)
    {
        m_thread = std::thread([this, spec, holdMs] {
            const QString name = QStringLiteral("lock-holder");
            {
                // No busy timeout: it tries again every 50 µs itself, as eager as a relayer at full speed.
                QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
                db.setDatabaseName(spec.database);
                db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=0"));
                db.open();
                QSqlQuery q(db);
                while (m_running) {
                    if (!q.exec(QStringLiteral("BEGIN IMMEDIATE"))) {
                        QThread::usleep(50);
                        continue;
                    }
                    ++m_held;
                    QThread::msleep(holdMs);
                    q.exec(QStringLiteral("COMMIT"));
                    QThread::usleep(1000);
                }
                db.close();
            }
            QSqlDatabase::removeDatabase(name);
        });
        while (m_held == 0)
            QThread::usleep(200);
    }
    ~LockHolder() { stop(); }
    int stop()
    {
        m_running = false;
        if (m_thread.joinable())
            m_thread.join();
        return m_held;
    }

private:
    std::thread m_thread;
    std::atomic<bool> m_running{true};
    std::atomic<int> m_held{0};
};

class TestStorage : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec freshPath() { return testsupport::freshOutbox(m_dir); }

    static QString enqueue(QSqlDatabase db, const QString &type = QStringLiteral("t"), const SendEventOptions &o = {})
    {
        auto id = sendEventTransactional(db, type, QStringLiteral("/test"), QJsonObject{{"n", 1}}, o);
        if (!id.isOk())
            qFatal("enqueue failed: %s", qPrintable(id.error().message()));
        return *id;
    }

    // Takes schema version 10's queue away from a PostgreSQL outbox, as one of version 9 had none (its
    // triggers go with their functions).
    static void dropPostgresQueue(QSqlQuery &q)
    {
        QVERIFY2(q.exec("DROP FUNCTION outbox_queue_added, outbox_queue_pending, outbox_queue_rescheduled, "
                        "outbox_queue_removed CASCADE"),
            qPrintable(q.lastError().text()));
        QVERIFY2(q.exec("DROP TABLE outbox_queue"), qPrintable(q.lastError().text()));
    }

    static DeliveryRecord record(qint64 seq, EventStatus status, int http, const QString &error = {})
    {
        DeliveryRecord r;
        r.sequence = seq;
        r.newStatus = status;
        r.outcome = status == EventStatus::Sent ? Attempt::Outcome::Sent
            : status == EventStatus::Failed     ? Attempt::Outcome::Failed
                                                : Attempt::Outcome::Retry;
        r.attemptedAt = QDateTime::currentDateTimeUtc();
        r.nextAttemptAt = r.attemptedAt.addSecs(60);
        r.httpStatus = http;
        r.error = error;
        r.durationMs = 3;
        return r;
    }

private Q_SLOTS:
    // Every named statement of this database's dialect (its own and the common ones) is prepared by the
    // database itself, the tokens filled per call given plain values: a typo in any SQL file fails here.
    void everyNamedStatementPrepares()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        const detail::Dialect *d = detail::Dialect::forDriver(path.driver);
        QVERIFY(d);
        QSqlQuery q(s->database());
        int prepared = 0;
        QStringList names; // each statement of each migration apart (a file holds several)
        QHash<QString, QString> texts;
        for (const QString &name : d->statementNames()) {
            if (name.startsWith(QLatin1String("romancy-")))
                continue; // statements on a romancy/edda table: tst_foreign prepares them on one
            if (!name.startsWith(QLatin1String("migrate-"))) {
                names << name;
                texts.insert(name, d->sql(name));
                continue;
            }
            const QStringList steps = d->migration(name.mid(8).toInt());
            for (int i = 0; i < steps.size(); ++i) {
                names << QStringLiteral("%1 #%2").arg(name).arg(i + 1);
                texts.insert(names.last(), steps.at(i));
            }
        }
        if (!testsupport::isServer()) // migration 4 edits sqlite_schema, which takes this to prepare
            QSqlQuery(s->database()).exec(QStringLiteral("PRAGMA writable_schema = ON"));
        auto schemaOff = qScopeGuard([&] {
            if (!testsupport::isServer())
                QSqlQuery(s->database()).exec(QStringLiteral("PRAGMA writable_schema = OFF"));
        });
        for (const QString &name : std::as_const(names)) {
            QString sql = texts.value(name)
                              .replace(QLatin1String("{{where}}"), QStringLiteral(" WHERE seq > ?"))
                              .replace(QLatin1String("{{types}}"),
                                  QStringLiteral(" AND ") + d->typeCondition({QStringLiteral("a.*")}))
                              .replace(QLatin1String("{{columns}}"), d->sql(QStringLiteral("event-columns")))
                              .replace(QLatin1String("{{direction}}"), QStringLiteral("DESC"))
                              .replace(QLatin1String("{{order}}"), QStringLiteral("type, seq"))
                              .replace(QLatin1String("{{statuses}}"), QStringLiteral("'sent'"))
                              .replace(QLatin1String("{{patterns}}"), QStringLiteral("'[]'"))
                              .replace(QLatin1String("{{sequences}}"), QStringLiteral("1,2"))
                              .replace(QLatin1String("{{column}}"), QStringLiteral("type"));
            // Statements, not fragments; PostgreSQL prepares no DDL, and the migrations ran at open().
            static const QRegularExpression dml(QStringLiteral("^(SELECT|INSERT|UPDATE|DELETE|WITH)\\b"));
            if (!dml.match(sql).hasMatch())
                continue;
            QVERIFY2(q.prepare(sql),
                qPrintable(QStringLiteral("%1/%2: %3 in: %4").arg(d->name(), name, q.lastError().text(), sql)));
            q.finish();
            ++prepared;
        }
        qInfo("%d statements of the %s dialect prepared", prepared, qPrintable(d->name()));
        QVERIFY(prepared >= 40);
    }

    // The read-only probe tells what a database holds and changes nothing: an empty database, this engine's
    // outbox and its version, the romancy/edda layout (recognised, refused by open()), an unknown table
    // outbox_events with its columns.
    void probeTellsWhatADatabaseHolds()
    {
        const ConnectionSpec place = freshPath();
        if (!testsupport::isServer()) {
            auto missing = Storage::probe(place);
            QVERIFY(missing.isOk());
            QCOMPARE(missing->kind, ProbeResult::Kind::Missing);
            QVERIFY(!QFile::exists(place.database)); // not created by looking
            AppConnection create(place); // an empty file
        }
        auto empty = Storage::probe(place);
        QVERIFY2(empty.isOk(), qPrintable(empty.isOk() ? QString() : empty.error().message()));
        QCOMPARE(empty->kind, ProbeResult::Kind::Empty);
        {
            AppConnection app(place);
            QSqlQuery q(app.db());
            // The unified outbox table of romancy and edda, as their schema creates it.
            QVERIFY2(
                q.exec(QStringLiteral(
                    "CREATE TABLE outbox_events (event_id VARCHAR(255) PRIMARY KEY, event_type VARCHAR(255) NOT NULL,"
                    " event_source VARCHAR(255) NOT NULL, data_type VARCHAR(10) NOT NULL DEFAULT 'json',"
                    " event_data TEXT, event_data_binary %1, content_type VARCHAR(100) NOT NULL DEFAULT "
                    "'application/json', created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
                    " published_at TIMESTAMP NULL, status VARCHAR(50) NOT NULL DEFAULT 'pending',"
                    " retry_count INTEGER NOT NULL DEFAULT 0, last_error TEXT)")
                           .arg(testsupport::isPostgres() ? QStringLiteral("BYTEA") : QStringLiteral("BLOB"))),
                qPrintable(q.lastError().text()));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO outbox_events (event_id, event_type, event_source, event_data) "
                                          "VALUES ('e1', 'order.created', '/shop', '{\"n\": 1}')")));
        }
        auto fingerprint = [&] {
            if (!testsupport::isServer()) {
                QFile f(place.database);
                f.open(QIODevice::ReadOnly);
                return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256)
                    + (QFile::exists(place.database + QStringLiteral("-wal")) ? QByteArray("+wal") : QByteArray());
            }
            AppConnection app(place);
            return app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_events")).toByteArray() + '/'
                + app.scalar(testsupport::isMysql()
                             ? QStringLiteral(
                                 "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")
                             : QStringLiteral("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                                              "current_schema()"))
                      .toByteArray();
        };
        const QByteArray before = fingerprint();
        auto romancy = Storage::probe(place);
        QVERIFY(romancy.isOk());
        QCOMPARE(romancy->kind, ProbeResult::Kind::Foreign);
        QCOMPARE(romancy->format, QStringLiteral("romancy/edda outbox_events"));
        QVERIFY(romancy->columns.contains(QStringLiteral("retry_count")));
        auto refused = Storage::open(place, Storage::OpenMode::MustBeOutbox);
        QVERIFY(!refused.isOk());
        QVERIFY2(refused.error().message().contains(QStringLiteral("holds a romancy/edda outbox_events table")),
            qPrintable(refused.error().message()));
        QCOMPARE(fingerprint(), before);
        {
            AppConnection app(place);
            QSqlQuery q(app.db());
            QVERIFY(q.exec(QStringLiteral("DROP TABLE outbox_events")));
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE outbox_events (id INTEGER, body TEXT)")));
        }
        auto other = Storage::probe(place);
        QVERIFY(other.isOk());
        QCOMPARE(other->kind, ProbeResult::Kind::Other);
        QCOMPARE(other->columns, (QStringList{"id", "body"}));
        {
            AppConnection app(place);
            QVERIFY(QSqlQuery(app.db()).exec(QStringLiteral("DROP TABLE outbox_events")));
        }
        {
            auto s = testsupport::openStorage(place); // creates the outbox
        }
        auto ours = Storage::probe(place);
        QVERIFY(ours.isOk());
        QCOMPARE(ours->kind, ProbeResult::Kind::Outbox);
        QCOMPARE(ours->schemaVersion, Storage::schemaVersion());
        QVERIFY(ours->tables.contains(QStringLiteral("outbox_relayers")));
    }

    // A full disk in the middle of the caller's transaction: SQLite rolls the whole transaction back. The
    // enqueue must say so and must not write the event again on its own (it would commit alone, without the
    // business rows it belonged to).
    void fullDiskNeverCommitsAnEventOnItsOwn()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite condition");
        // A real full disk: a 1 MiB tmpfs where mounting is permitted (root in the test machine's sandbox),
        // else SQLite's page limit (which rolls back only the statement, not the transaction).
        QTemporaryDir mountPoint;
        const bool tmpfs =
            QProcess::execute(QStringLiteral("mount"), {"-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint.path()})
            == 0;
        auto unmount = qScopeGuard([&] {
            if (tmpfs)
                QProcess::execute(QStringLiteral("umount"), {mountPoint.path()});
        });
        const ConnectionSpec path =
            tmpfs ? ConnectionSpec::sqlite(mountPoint.filePath(QStringLiteral("outbox.db"))) : freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        {
            AppConnection app(path);
            QSqlDatabase db = app.db();
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE orders (id INTEGER PRIMARY KEY, note BLOB)")));
            if (!tmpfs) {
                const int pages = app.scalar(QStringLiteral("PRAGMA page_count")).toInt();
                QVERIFY(q.exec(QStringLiteral("PRAGMA max_page_count = %1").arg(pages + 12)));
            }
            QVERIFY(db.transaction());
            QVERIFY(q.exec(QStringLiteral("INSERT INTO orders (note) VALUES (zeroblob(1000))")));
            Error error;
            for (int i = 0; i < 1000 && !error; ++i) {
                auto id = sendEventTransactional(db, QStringLiteral("com.example.full"), QStringLiteral("/t"),
                    QByteArray("{\"pad\":\"" + QByteArray(3000, 'x') + "\"}"));
                if (!id.isOk())
                    error = id.error();
            }
            QVERIFY(error);
            qInfo("%s: %s", tmpfs ? "tmpfs" : "max_page_count", qPrintable(error.message()));
            if (tmpfs)
                QVERIFY2(error.message().contains(QStringLiteral("rolled the whole transaction back")),
                    qPrintable(error.message()));
            db.rollback();
            q.exec(QStringLiteral("PRAGMA max_page_count = 1000000"));
            QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_events")).toInt(), 0);
            QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM orders")).toInt(), 0);
        }
    }

    void schemaIsCreatedOnceAndVersioned()
    {
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        {
            auto s = testsupport::openStorage(path);
        } // reopening migrates nothing and fails nothing
        AppConnection app(path);
        QCOMPARE(
            app.scalar("SELECT COUNT(*) FROM outbox_schema").toInt(), Storage::schemaVersion()); // a row per version
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        if (!testsupport::isServer())
            QCOMPARE(app.scalar("PRAGMA journal_mode").toString(), QStringLiteral("wal"));
        const QString indexQuery = testsupport::isPostgres()
            ? QStringLiteral("SELECT COUNT(*) FROM pg_indexes WHERE indexname = '%1'")
            : testsupport::isMysql()
            ? QStringLiteral("SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics"
                             " WHERE table_schema = DATABASE() AND index_name = '%1'")
            : QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name='%1'");
        for (const char *index : {"outbox_events_key", "outbox_events_status", "outbox_attempts_event"})
            QVERIFY2(app.scalar(indexQuery.arg(QLatin1String(index))).toInt() == 1, index);
        // The due index: PostgreSQL's is the queue's (version 10).
        QCOMPARE(
            app.scalar(indexQuery.arg(QStringLiteral("outbox_events_due"))).toInt(), testsupport::isPostgres() ? 0 : 1);
        QCOMPARE(
            app.scalar(indexQuery.arg(QStringLiteral("outbox_queue_due"))).toInt(), testsupport::isPostgres() ? 1 : 0);
        // Version 6: the partial index of failures (MySQL and MariaDB have no partial indexes).
        QCOMPARE(app.scalar(indexQuery.arg(QStringLiteral("outbox_events_failures"))).toInt(),
            testsupport::isMysql() ? 0 : 1);
    }

    // Issue 27, section 2: the console's latest failure is the newest by when it happened (a retried 500 of an
    // older row after a later row's final 404), with that attempt's error; and a retried event is ready since
    // The payload search on a bare store: plain text and conditions, newest first, bounded to the newest
    // events, combined with the other filters, and stopped when the caller has enough.
    void payloadSearchFindsTextAndConditions()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QList<QString> ids;
        for (int i = 1; i <= 30; ++i) {
            const QJsonObject data{{"n", i}, {"note", i % 3 == 0 ? "late delivery" : "on time"}};
            QSqlDatabase db = app.db();
            auto id = sendEventTransactional(
                db, i % 2 ? QStringLiteral("odd") : QStringLiteral("even"), QStringLiteral("/test"), data);
            QVERIFY(id.isOk());
            ids << *id;
        }
        auto run = [&](const PayloadSearch &search) {
            QList<qint64> found;
            const Error e = searchPayloads(
                *s, search,
                [&](const QList<qint64> &chunk) {
                    found += chunk;
                    return true;
                },
                [](int percent) { return percent >= 0 && percent <= 100; });
            if (e)
                qFatal("search failed: %s", qPrintable(e.message()));
            QStringList n; // the payloads' n, in the order found
            const QList<OutboxEvent> rows = *s->eventsBySequence(found, true);
            for (const OutboxEvent &ev : rows)
                n << QString::number(QJsonDocument::fromJson(ev.data)[QStringLiteral("n")].toInt());
            std::sort(n.begin(), n.end(), [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
            return n.join(QLatin1Char(' '));
        };
        PayloadSearch search;
        search.text = "late";
        QCOMPARE(run(search), QStringLiteral("30 27 24 21 18 15 12 9 6 3"));
        search.text = "data.n >= 26";
        QCOMPARE(run(search), QStringLiteral("30 29 28 27 26"));
        search.text = "data.note ~ LATE"; // any case
        search.filter.type = QStringLiteral("odd");
        QCOMPARE(run(search), QStringLiteral("27 21 15 9 3"));
        search.filter = {};
        search.text = "data.n < 3";
        QCOMPARE(run(search), QStringLiteral("2 1"));
        search.range = 10; // only the newest ten events are looked at (where sequences rise with insertion)
        QCOMPARE(run(search), s->has(Storage::Capability::SequenceWindows) ? QString() : QStringLiteral("2 1"));
        search.range = 0;
        search.text = "on time"; // 20 events; a caller that has enough stops the search, which is no error
        int calls = 0;
        QVERIFY(!searchPayloads(*s, search, [&calls](const QList<qint64> &) { return ++calls > 1; }, {}));
        QCOMPARE(calls, 1);
        search.text = "nothing has this";
        QCOMPARE(run(search), QString());
        search.text.clear(); // no text: every event of the filter, in the order asked
        search.filter.type = QStringLiteral("even");
        QCOMPARE(run(search).count(QLatin1Char(' ')) + 1, 15);
    }

    // Edit & retry on a bare store: the fix is enqueued naming the original; the original is kept failed and
    // resolved (its history naming the fix) or deleted; a fix that cannot be enqueued writes nothing.
    void editAndRetryEnqueuesTheFix()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        const QString a = enqueue(app.db());
        const QString b = enqueue(app.db());
        auto claimed = relay(s)->claim(QStringLiteral("r"), 2, 60000);
        QVERIFY(claimed.isOk() && claimed->size() == 2);
        QVERIFY(!relay(s)->complete(QStringLiteral("r"),
            {record(claimed->at(0).sequence, EventStatus::Failed, 400, QStringLiteral("HTTP 400 bad amount")),
                record(claimed->at(1).sequence, EventStatus::Failed, 400, QStringLiteral("HTTP 400 bad amount"))}));

        OutboxEvent fix = *s->event(a);
        fix.id = createEventId();
        fix.data = R"({"n":2})";
        fix.replayOf = a;
        auto kept = enqueueFix(*s, fix, FixedOriginal::Resolve);
        QVERIFY2(kept.isOk(), qPrintable(kept.isOk() ? QString() : kept.error().message()));
        QCOMPARE(kept->id, fix.id);
        QCOMPARE(kept->original, FixOutcome::Original::Resolved);
        const OutboxEvent enqueued = *s->event(fix.id);
        QCOMPARE(enqueued.status, EventStatus::Pending);
        QCOMPARE(enqueued.replayOf, a);
        QCOMPARE(enqueued.data, QByteArray(R"({"n":2})"));
        QCOMPARE(s->event(a)->status, EventStatus::Failed);
        const QList<Attempt> history = *s->attempts(a);
        QVERIFY(!history.isEmpty());
        QCOMPARE(fixOf(history.last().error), fix.id);

        OutboxEvent second = *s->event(b);
        second.id = createEventId();
        second.replayOf = b;
        auto deleted = enqueueFix(*s, second, FixedOriginal::Delete);
        QVERIFY(deleted.isOk());
        QCOMPARE(deleted->original, FixOutcome::Original::Deleted);
        QCOMPARE(s->event(b).error().code(), Error::NotFound);
        // Its original gone meanwhile: the fix is still enqueued, and says so.
        second.id = createEventId();
        auto late = enqueueFix(*s, second, FixedOriginal::Resolve);
        QVERIFY(late.isOk());
        QCOMPARE(late->original, FixOutcome::Original::NoLongerFailed);

        const qint64 before = *s->countEvents({});
        OutboxEvent bad = fix;
        bad.id = createEventId();
        bad.type.clear();
        auto refused = enqueueFix(*s, bad, FixedOriginal::Delete);
        QVERIFY(!refused.isOk());
        QVERIFY2(refused.error().message().contains(QStringLiteral("type")), qPrintable(refused.error().message()));
        QCOMPARE(*s->countEvents({}), before);
        QCOMPARE(s->event(a)->status, EventStatus::Failed); // the original untouched

        // A keyed original kept failed would hold a fix of its key behind it for good: refused, nothing
        // written; deleting it lets the fix through, and a fix with another key may keep it.
        SendEventOptions keyed;
        keyed.orderingKey = QStringLiteral("order-7");
        QSqlDatabase appDb = app.db();
        const QString c = *sendEventTransactional(
            appDb, QStringLiteral("t"), QStringLiteral("/test"), QByteArray(R"({"n":3})"), keyed);
        auto pending = relay(s)->claim(QStringLiteral("r"), 10, 60000); // c, and the fixes above: sent
        QVERIFY(pending.isOk());
        QList<DeliveryRecord> outcomes;
        for (const OutboxEvent &e : *pending)
            outcomes << (e.id == c ? record(e.sequence, EventStatus::Failed, 400, QStringLiteral("HTTP 400 bad amount"))
                                   : record(e.sequence, EventStatus::Sent, 200));
        QVERIFY(!relay(s)->complete(QStringLiteral("r"), outcomes));
        QCOMPARE(s->event(c)->status, EventStatus::Failed);
        OutboxEvent keyedFix = *s->event(c);
        keyedFix.id = createEventId();
        keyedFix.replayOf = c;
        auto held = enqueueFix(*s, keyedFix, FixedOriginal::Resolve);
        QVERIFY(!held.isOk());
        QVERIFY2(held.error().message().contains(QStringLiteral("order-7")), qPrintable(held.error().message()));
        QCOMPARE(*s->countEvents({}), before + 1);
        OutboxEvent otherKey = keyedFix;
        otherKey.orderingKey = QStringLiteral("order-7-fixed");
        auto keptBeside = enqueueFix(*s, otherKey, FixedOriginal::Resolve);
        QVERIFY(keptBeside.isOk());
        QCOMPARE(keptBeside->original, FixOutcome::Original::Resolved);
        // (The original resolved stays failed; a second fix of the key is refused the same way.)
        keyedFix.id = createEventId();
        QVERIFY(!enqueueFix(*s, keyedFix, FixedOriginal::Resolve).isOk());
        auto replaced = enqueueFix(*s, keyedFix, FixedOriginal::Delete);
        QVERIFY(replaced.isOk());
        QCOMPARE(replaced->original, FixOutcome::Original::Deleted);
        auto next = relay(s)->claim(QStringLiteral("r"), 10, 60000);
        QVERIFY(next.isOk());
        QStringList claimedIds;
        for (const OutboxEvent &e : *next)
            claimedIds << e.id;
        QVERIFY2(claimedIds.contains(keyedFix.id), qPrintable(claimedIds.join(QLatin1Char(' '))));
    }

    // its retry, not since its creation.
    void latestFailureAndReadySinceFollowTime()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        const QString first = enqueue(app.db());
        const QString second = enqueue(app.db());
        auto none = s->latestFailure();
        QVERIFY(none.isOk() && none->event.id.isEmpty());
        // The second row fails for good first; the first row's retried 500 comes a second later.
        auto claimed = relay(s)->claim(QStringLiteral("r"), 2, 60000);
        QVERIFY(claimed.isOk() && claimed->size() == 2);
        DeliveryRecord final404 = record(claimed->at(1).sequence, EventStatus::Failed, 404, QStringLiteral("HTTP 404"));
        QVERIFY(!relay(s)->complete(QStringLiteral("r"), {final404}));
        QTest::qWait(1100);
        DeliveryRecord retried500 =
            record(claimed->at(0).sequence, EventStatus::Pending, 500, QStringLiteral("HTTP 500 boom"));
        QVERIFY(!relay(s)->complete(QStringLiteral("r"), {retried500}));
        auto latest = s->latestFailure();
        QVERIFY(latest.isOk());
        QCOMPARE(latest->event.id, first); // not the newest failed row (the second), which failed earlier
        QCOMPARE(latest->event.lastError, QStringLiteral("HTTP 500 boom"));
        QCOMPARE(latest->event.lastHttpStatus, 500);
        QVERIFY(qAbs(latest->at.msecsTo(retried500.attemptedAt)) < 1000);
        // Retried by an operator a second after it was created: ready since the retry.
        QTest::qWait(1100);
        QVERIFY(s->retry({second}).isOk());
        auto stats = s->stats();
        QVERIFY(stats.isOk());
        QCOMPARE(stats->ready, 1);
        QVERIFY(stats->oldestReadySince.isValid());
        QVERIFY2(stats->oldestReadyCreatedAt.msecsTo(stats->oldestReadySince) >= 1000,
            qPrintable(stats->oldestReadySince.toString(Qt::ISODateWithMs)));
    }

    // An outbox of schema version 1 (no parking) is brought to version 2: its waiting events are parked.
    void version1OutboxIsMigrated()
    {
        if (testsupport::isServer())
            QSKIP("version 2 changes only SQLite");
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        AppConnection app(path);
        QSqlQuery q(app.db());
        for (const char *trigger : {"outbox_events_park", "outbox_events_unpark_sent", "outbox_events_unpark_deleted"})
            QVERIFY(q.exec(QStringLiteral("DROP TRIGGER %1").arg(QLatin1String(trigger))));
        for (const char *column : {"last_duration_ms", "last_relayer"})
            QVERIFY(q.exec(QStringLiteral("ALTER TABLE outbox_events DROP COLUMN %1").arg(QLatin1String(column))));
        QVERIFY(q.exec("ALTER TABLE outbox_relayers DROP COLUMN target_state")); // version 7's
        QVERIFY(q.exec("DELETE FROM outbox_schema WHERE version > 1"));
        // Rows as version 1 wrote them (an enqueue here would migrate the schema first).
        const QString head = QStringLiteral("v1-head"), follower = QStringLiteral("v1-follower");
        for (const QString &id : {head, follower})
            QVERIFY(q.exec(
                QStringLiteral("INSERT INTO outbox_events (id, type, source, ordering_key, next_attempt_at, created_at)"
                               " VALUES ('%1', 't', '/s', 'K', 1000, 1000)")
                    .arg(id)));
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE next_attempt_at = 253402214400000").toInt(), 0);
        auto s = testsupport::openStorage(path);
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        QCOMPARE(s->event(follower)->nextAttemptAt.date().year(), 9999);
        QVERIFY(s->event(head)->nextAttemptAt.date().year() < 9999);
    }

    // Version 10 gives PostgreSQL a queue: an outbox of version 9 keeps its pending events and the lease a
    // relayer holds on one of them; afterwards other programs' SQL on outbox_events keeps the queue whole (a
    // row inserted straight in is relayed; one made failed or deleted by hand is not).
    void version9OutboxGetsItsQueue()
    {
        if (!testsupport::isPostgres())
            QSKIP("version 10 changes only PostgreSQL");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        const QString a = enqueue(app.db()), b = enqueue(app.db()), c = enqueue(app.db());
        QCOMPARE(relay(s)->claim("old-relayer", 1, 600000)->value(0).id, a);
        s.reset();
        QSqlQuery q(app.db());
        // As version 9 kept it: the lease on the event's row.
        QVERIFY(
            q.exec("UPDATE outbox_events e SET lease_owner = q.lease_owner, lease_expires_at = "
                   "q.lease_expires_at, next_attempt_at = q.next_attempt_at FROM outbox_queue q WHERE q.seq = e.seq"));
        dropPostgresQueue(q);
        QVERIFY(
            q.exec(QStringLiteral("UPDATE outbox_events SET status = 'sent', sent_at = now() WHERE id = '%1'").arg(c)));
        QVERIFY(q.exec("DELETE FROM outbox_schema WHERE version = 10"));
        s = testsupport::openStorage(path);
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_queue").toInt(), 2);
        QCOMPARE(s->event(a)->leaseOwner, QStringLiteral("old-relayer"));
        QVERIFY(s->event(a)->leaseExpiresAt > QDateTime::currentDateTimeUtc().addSecs(60));
        const auto batch = *relay(s)->claim("new", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QCOMPARE(batch[0].id, b);
        QCOMPARE(batch[0].leaseOwner, QStringLiteral("new"));
        QVERIFY(!relay(s)->complete("old-relayer", {record(s->event(a)->sequence, EventStatus::Sent, 200)}).isError());
        QCOMPARE(s->event(a)->status, EventStatus::Sent);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_queue").toInt(), 1); // b's, leased by new
        // Another program's SQL.
        QVERIFY(q.exec("INSERT INTO outbox_events (id, type, source, next_attempt_at, created_at) VALUES "
                       "('direct-1', 't', '/s', now(), now()), ('direct-2', 't', '/s', now(), now()), "
                       "('direct-3', 't', '/s', now(), now())"));
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_queue").toInt(), 4);
        QVERIFY(q.exec("UPDATE outbox_events SET status = 'failed' WHERE id = 'direct-2'"));
        QVERIFY(q.exec("DELETE FROM outbox_events WHERE id = 'direct-3'"));
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_queue").toInt(), 2);
        const auto direct = *relay(s)->claim("new", 10, 60000);
        QCOMPARE(direct.size(), 1);
        QCOMPARE(direct[0].id, QStringLiteral("direct-1"));
        // Made pending again by hand (as a retry does): queued again, due at the time written.
        QVERIFY(q.exec("UPDATE outbox_events SET status = 'pending' WHERE id = 'direct-2'"));
        QCOMPARE(relay(s)->claim("new", 10, 60000)->value(0).id, QStringLiteral("direct-2"));
    }

    // An outbox of schema version 2 recorded delivering attempts as rows; after version 3 its history reads
    // the same (not twice), and new deliveries keep theirs on the event row.
    void version2OutboxIsMigrated()
    {
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        AppConnection app(path);
        QSqlQuery q(app.db());
        if (testsupport::isPostgres()) // version 10's queue, whose trigger reads last_relayer
            dropPostgresQueue(q);
        for (const char *column : {"last_duration_ms", "last_relayer"})
            QVERIFY2(q.exec(QStringLiteral("ALTER TABLE outbox_events DROP COLUMN %1").arg(QLatin1String(column))),
                qPrintable(q.lastError().text()));
        QVERIFY(q.exec("ALTER TABLE outbox_relayers DROP COLUMN target_state")); // version 7's
        QVERIFY(q.exec("DELETE FROM outbox_schema WHERE version > 2"));
        // A row delivered by version 2, with its delivering attempt recorded.
        QVERIFY(q.exec(testsupport::isServer() ? "INSERT INTO outbox_events (id, type, source, status, attempts, "
                                                 "next_attempt_at, created_at, sent_at, last_http_status)"
                                                 " VALUES ('v2-sent', 't', '/s', 'sent', 1, now(), now(), now(), 200)"
                                               : "INSERT INTO outbox_events (id, type, source, status, attempts, "
                                                 "next_attempt_at, created_at, sent_at, last_http_status)"
                                                 " VALUES ('v2-sent', 't', '/s', 'sent', 1, 1000, 1000, 1000, 200)"));
        QVERIFY(q.exec(testsupport::isServer()
                ? "INSERT INTO outbox_attempts (event_seq, attempted_at, outcome, http_status, duration_ms, relayer)"
                  " SELECT seq, now(), 'sent', 200, 5, 'old' FROM outbox_events WHERE id = 'v2-sent'"
                : "INSERT INTO outbox_attempts (event_seq, attempted_at, outcome, http_status, duration_ms, relayer)"
                  " SELECT seq, 1000, 'sent', 200, 5, 'old' FROM outbox_events WHERE id = 'v2-sent'"));
        auto s = testsupport::openStorage(path);
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        const auto history = *s->attempts(QStringLiteral("v2-sent"));
        QCOMPARE(history.size(), 1);
        QCOMPARE(history.first().relayer, QStringLiteral("old"));
        // Opening it again migrates nothing (the columns exist; adding them twice would fail).
        {
            auto again = testsupport::openStorage(path);
        }
        const QString id = enqueue(app.db());
        const auto batch = *relay(s)->claim("new", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QVERIFY(!relay(s)->complete("new", {record(batch[0].sequence, EventStatus::Sent, 200)}).isError());
        QCOMPARE(s->attempts(id)->size(), 1);
        QCOMPARE(s->attempts(id)->first().relayer, QStringLiteral("new"));
    }

    // Version 4 edits SQLite's table definition in place (the status check as comparisons). An outbox of
    // version 3 keeps its rows, the check still refuses a bad status, and a connection opened before the
    // migration sees the new definition too.
    void version3OutboxIsMigrated()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite matter");
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        AppConnection app(path);
        const QString id = enqueue(app.db());
        {
            AppConnection old(path);
            QSqlQuery q(old.db());
            QVERIFY(q.exec("PRAGMA schema_version") && q.next());
            const int cookie = q.value(0).toInt();
            q.finish();
            QVERIFY(q.exec("BEGIN"));
            QVERIFY(q.exec("PRAGMA writable_schema = ON"));
            QVERIFY(q.exec("UPDATE sqlite_schema SET sql = replace(sql, \"CHECK (status = 'pending' OR status = "
                           "'failed' OR status = 'sent')\","
                           " \"CHECK (status IN ('pending','failed','sent'))\") WHERE name = 'outbox_events'"));
            QVERIFY(q.exec(QStringLiteral("PRAGMA schema_version = %1").arg(cookie + 1)));
            QVERIFY(q.exec("PRAGMA writable_schema = OFF"));
            QVERIFY(q.exec("ALTER TABLE outbox_relayers DROP COLUMN target_state")); // version 7's
            QVERIFY(q.exec("DELETE FROM outbox_schema WHERE version > 3"));
            QVERIFY(q.exec("COMMIT"));
        }
        QVERIFY(app.scalar("SELECT sql FROM sqlite_schema WHERE name = 'outbox_events'")
                    .toString()
                    .contains("status IN ('pending','failed','sent')"));
        QSqlQuery q(app.db());
        QVERIFY(!q.exec("UPDATE outbox_events SET status = 'lost'"));

        auto s = testsupport::openStorage(path);
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        const QString definition = app.scalar("SELECT sql FROM sqlite_schema WHERE name = 'outbox_events'").toString();
        QVERIFY2(definition.contains("CHECK (status = 'pending' OR status = 'failed' OR status = 'sent')"),
            qPrintable(definition));
        QCOMPARE(app.scalar("PRAGMA integrity_check").toString(), QStringLiteral("ok"));
        QCOMPARE(s->event(id)->status, EventStatus::Pending);
        // The connection opened before the migration refuses a bad status by the new definition.
        QVERIFY(!q.exec("UPDATE outbox_events SET status = 'lost'"));
        QVERIFY2(q.lastError().text().contains("status = 'pending' OR"), qPrintable(q.lastError().text()));
        QCOMPARE(s->event(id)->status, EventStatus::Pending);
        // Opening it again changes nothing.
        {
            auto again = testsupport::openStorage(path);
        }
        QCOMPARE(app.scalar("SELECT sql FROM sqlite_schema WHERE name = 'outbox_events'").toString(), definition);
        const auto batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QVERIFY(!relay(s)->complete("r", {record(batch[0].sequence, EventStatus::Sent, 200)}).isError());
        QCOMPARE(s->event(id)->status, EventStatus::Sent);
    }

    // An application's connection waits for SQLite's write lock the way the engine's own do once it has
    // enqueued: beside a writer holding the lock 10 ms at a time with 1 ms gaps (a relayer at full speed, a
    // cleanup), each enqueue gets in within a transaction or two. SQLite's own busy handler sleeps up to 100 ms
    // between two tries and so missed such gaps: in 2 runs of 3 the slowest of 30 enqueues waited 0.9 to 2 s.
    void applicationEnqueueFindsTheGapsOfABusyWriter()
    {
        if (testsupport::isServer())
            QSKIP("SQLite's write lock (the servers lock rows)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        LockHolder holder(path, 10);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        qint64 longest = 0;
        for (int i = 0; i < 30; ++i) {
            QElapsedTimer t;
            t.start();
            auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), QByteArray("{}"));
            longest = qMax(longest, t.elapsed());
            QVERIFY2(id.isOk(), qPrintable(id.error().message()));
        }
        holder.stop();
        QVERIFY2(longest < 500, qPrintable(QStringLiteral("an enqueue waited %1 ms for the write lock").arg(longest)));
        QCOMPARE(s->stats()->pending, 30);
    }

    // It keeps the application's busy timeout: 300 ms here, not the engine's 10 s.
    void applicationBusyTimeoutIsKept()
    {
        if (testsupport::isServer())
            QSKIP("SQLite's write lock (the servers lock rows)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        const QString name = QStringLiteral("short-timeout");
        auto closeIt = qScopeGuard([&] {
            QSqlDatabase::database(name, false).close();
            QSqlDatabase::removeDatabase(name);
        });
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path.database);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=300"));
        QVERIFY(db.open());
        QVERIFY(sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), QByteArray("{}")).isOk());
        LockHolder holder(path, 3000);
        QElapsedTimer t;
        t.start();
        auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), QByteArray("{}"));
        const qint64 waited = t.elapsed();
        QVERIFY(!id.isOk());
        QVERIFY2(id.error().message().contains(QLatin1String("locked")), qPrintable(id.error().message()));
        QVERIFY2(waited >= 250 && waited < 2500, qPrintable(QStringLiteral("it waited %1 ms").arg(waited)));
        holder.stop();
        QCOMPARE(s->stats()->pending, 1);
    }

    // Schema version 9 (SQLite): a payload over 1 KiB is written once, at enqueue, beside the row; claiming and writing
    // back 40 events of 20 KiB rewrites only their small rows (the WAL grows by a fraction of their payloads,
    // where the row with its payload made it grow by twice their size); rows with their data in the row (an
    // outbox of version 8, another program's INSERT) are read and delivered as before; deleting an event
    // deletes its payload.
    void payloadIsWrittenOnce()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite layout (PostgreSQL and InnoDB keep large values out of the row themselves)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        const QByteArray big = "\"" + QByteArray(20 * 1024, 'x') + "\"";
        QStringList ids;
        QSqlDatabase db = app.db();
        for (int i = 0; i < 40; ++i) {
            auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), big);
            QVERIFY2(id.isOk(), qPrintable(id.error().message()));
            ids << *id;
        }
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_events WHERE length(data) = 0").toInt(), 40);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_payloads WHERE length(data) = 20 * 1024 + 2").toInt(), 40);
        // An event another program wrote straight into the table, its data in the row.
        QSqlQuery q(app.db());
        QVERIFY(q.exec("INSERT INTO outbox_events (id, type, source, content_type, data, next_attempt_at, created_at) "
                       "VALUES ('inline-1', 't', '/other', 'application/json', '{\"inline\":true}', 0, 0)"));
        QCOMPARE(s->event(ids.first())->data, big);
        QCOMPARE(s->event(QStringLiteral("inline-1"))->data, QByteArray("{\"inline\":true}"));

        QVERIFY(q.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        const QString wal = path.database + QStringLiteral("-wal");
        const qint64 walBefore = QFileInfo(wal).size();
        const auto batch = *relay(s)->claim("r", 100, 60000);
        QCOMPARE(batch.size(), 41);
        QList<DeliveryRecord> records;
        for (const OutboxEvent &e : batch) {
            QCOMPARE(e.data, e.id == QLatin1String("inline-1") ? QByteArray("{\"inline\":true}") : big);
            records << record(e.sequence, EventStatus::Sent, 200);
        }
        QVERIFY(relay(s)->renewLeases("r", {batch.first().sequence}, 60000).isOk());
        QVERIFY(!relay(s)->complete("r", records).isError());
        const qint64 grown = QFileInfo(wal).size() - walBefore;
        QVERIFY2(grown < 40 * 20 * 1024 / 4,
            qPrintable(
                QStringLiteral("claim and write-back of 40 events of 20 KiB wrote %1 bytes to the WAL").arg(grown)));
        QCOMPARE(s->event(ids.last())->status, EventStatus::Sent);
        QCOMPARE(s->event(ids.last())->data, big);

        // Deleting events deletes their payloads.
        QVERIFY(q.exec(QStringLiteral("DELETE FROM outbox_events WHERE id IN ('%1', '%2')").arg(ids.at(0), ids.at(1))));
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_payloads").toInt(), 38);
        QCOMPARE(
            app.scalar("SELECT COUNT(*) FROM outbox_payloads WHERE seq NOT IN (SELECT seq FROM outbox_events)").toInt(),
            0);

        // Large events of one ordering key: the second waits behind the first (its row parked by the trigger
        // that fires inside the view's).
        SendEventOptions keyed;
        keyed.orderingKey = QStringLiteral("k");
        const auto first = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), big, keyed);
        const auto second = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), big, keyed);
        QVERIFY(first.isOk() && second.isOk());
        const auto head = *relay(s)->claim("r", 100, 60000);
        QCOMPARE(head.size(), 1);
        QCOMPARE(head.first().id, *first);
        QCOMPARE(head.first().data, big);
    }

    // Where a payload goes is decided at the boundary migrate-9.sql's trigger draws: 1 KiB stays in the row
    // (written straight into the table, without the view), one byte more goes beside it (through the view),
    // both in and out of the caller's transaction, and both read back whole.
    void payloadBoundaryIsTheTriggers()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite layout");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        const QByteArray inRow = "\"" + QByteArray(1022, 'k') + "\"", beside = "\"" + QByteArray(1023, 'o') + "\"";
        QStringList ids;
        for (bool transaction : {false, true}) {
            if (transaction)
                QVERIFY(db.transaction());
            for (const QByteArray &data : {inRow, beside}) {
                auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), data);
                QVERIFY2(id.isOk(), qPrintable(id.error().message()));
                ids << *id;
            }
            if (transaction)
                QVERIFY(db.commit());
        }
        for (int i = 0; i < ids.size(); ++i) {
            const bool small = i % 2 == 0;
            QCOMPARE(app.scalar(QStringLiteral("SELECT length(data) FROM outbox_events WHERE id = '%1'").arg(ids[i]))
                         .toInt(),
                small ? 1024 : 0);
            QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_payloads p JOIN outbox_events e ON e.seq = "
                                               "p.seq WHERE e.id = '%1'")
                                    .arg(ids[i]))
                         .toInt(),
                small ? 0 : 1);
            QCOMPARE(s->event(ids[i])->data, small ? inRow : beside);
            QCOMPARE(s->event(ids[i])->status, EventStatus::Pending);
        }
    }

    // An outbox of version 8 keeps its rows and their data where they are; new events go beside.
    void version8OutboxIsMigrated()
    {
        if (testsupport::isServer())
            QSKIP("version 9 changes only SQLite");
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        {
            AppConnection old(path);
            QSqlQuery q(old.db());
            QVERIFY(q.exec("DROP TRIGGER outbox_enqueue_insert"));
            QVERIFY(q.exec("DROP VIEW outbox_enqueue"));
            QVERIFY(q.exec("DROP TRIGGER outbox_payloads_delete"));
            QVERIFY(q.exec("DROP TABLE outbox_payloads"));
            QVERIFY(q.exec("DELETE FROM outbox_schema WHERE version > 8"));
            QVERIFY(
                q.exec("INSERT INTO outbox_events (id, type, source, content_type, data, next_attempt_at, created_at) "
                       "VALUES ('v8', 't', '/old', 'application/json', '{\"v\":8}', 0, 0)"));
        }
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QCOMPARE(app.scalar("SELECT MAX(version) FROM outbox_schema").toInt(), Storage::schemaVersion());
        QCOMPARE(s->event(QStringLiteral("v8"))->data, QByteArray("{\"v\":8}"));
        const QString id = enqueue(app.db()); // 7 bytes: in the row
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_payloads").toInt(), 0);
        QCOMPARE(s->event(id)->data, QByteArray("{\"n\":1}"));
        QSqlDatabase db = app.db();
        const QByteArray large = "\"" + QByteArray(1100, 'y') + "\"";
        const auto largeId = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), large);
        QVERIFY(largeId.isOk());
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_payloads").toInt(), 1);
        QCOMPARE(s->event(*largeId)->data, large);
        EventFilter f;
        f.payloadContains = "\"v\":8";
        QCOMPARE(s->countEvents(f).value(), 1);
        f.payloadContains = "\"n\":1";
        QCOMPARE(s->countEvents(f).value(), 1);
        f.payloadContains = "yyy\"";
        QCOMPARE(s->countEvents(f).value(), 1);
        // A replay of the old row carries its data.
        QSqlQuery q(app.db());
        QVERIFY(q.exec("UPDATE outbox_events SET status = 'sent' WHERE id = 'v8'"));
        const auto replayed = s->replay({QStringLiteral("v8")});
        QVERIFY(replayed.isOk());
        QCOMPARE(replayed->newIds.size(), 1);
        QCOMPARE(s->event(replayed->newIds.first())->data, QByteArray("{\"v\":8}"));
    }

    void newerSchemaIsRefused()
    {
        const ConnectionSpec path = freshPath();
        {
            auto s = testsupport::openStorage(path);
        }
        {
            AppConnection app(path);
            QSqlQuery(app.db()).exec("INSERT INTO outbox_schema VALUES (99)");
        }
        auto s = Storage::open(path);
        QVERIFY(!s.isOk());
        QVERIFY(s.error().message().contains("newer than this program"));
    }

    void fileThatIsNotADatabase()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite matter");
        const QString path = freshPath().database;
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is a text file, not a database\n");
        f.close();
        auto s = Storage::open(ConnectionSpec::sqlite(path));
        QVERIFY(!s.isOk());
        QCOMPARE(s.error().code(), Error::InvalidArgument);
        QVERIFY(s.error().message().contains("is not a SQLite database"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("this is a text file, not a database\n")); // untouched
        QCOMPARE(Storage::open(ConnectionSpec::sqlite(m_dir.filePath("missing.db")), Storage::OpenMode::MustExist)
                     .error()
                     .code(),
            Error::NotFound);
    }

    void enqueueCommitsAndRollsBackWithTheCallersTransaction()
    {
        const ConnectionSpec path = freshPath();
        auto storage = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        QSqlQuery(db).exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)");

        QVERIFY(db.transaction());
        QSqlQuery(db).exec("INSERT INTO orders VALUES (1, 10.0)");
        const QString rolledBack = enqueue(db, "order.created");
        QVERIFY(db.rollback());
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM orders").toInt(), 0);
        QVERIFY(!storage->event(rolledBack).isOk());
        QCOMPARE(storage->stats()->pending, 0);

        QVERIFY(db.transaction());
        QSqlQuery(db).exec("INSERT INTO orders VALUES (2, 20.0)");
        const QString committed = enqueue(db, "order.created");
        // Not visible to another connection before the commit...
        QCOMPARE(storage->countEvents({}).value(), 0);
        QVERIFY(db.commit());
        // ... and visible, pending and due, after it.
        auto e = storage->event(committed);
        QVERIFY(e.isOk());
        QCOMPARE(e->status, EventStatus::Pending);
        QCOMPARE(e->type, QStringLiteral("order.created"));
        QCOMPARE(relay(storage)->claim("r1", 10, 60000)->size(), 1);
    }

    void enqueueKeepsIdsOptionsAndBytes()
    {
        const ConnectionSpec path = freshPath();
        auto storage = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        SendEventOptions o;
        o.eventId = QStringLiteral("my-id-1");
        o.contentType = QStringLiteral("application/json");
        o.subject = QStringLiteral("orders/1");
        o.orderingKey = QStringLiteral("customer-9");
        o.extensions.insert(QStringLiteral("traceparent"), QStringLiteral("00-abc-def-01"));
        const QByteArray bytes = R"({"amount":12345678901234567890,"n":9007199254740993})";
        QCOMPARE(*sendEventTransactional(db, "t", "/s", bytes, o), QStringLiteral("my-id-1"));
        const auto e = storage->event("my-id-1");
        QCOMPARE(e->data, bytes);
        QCOMPARE(e->subject, QStringLiteral("orders/1"));
        QCOMPARE(e->orderingKey, QStringLiteral("customer-9"));
        QCOMPARE(e->extensions.value("traceparent").toString(), QStringLiteral("00-abc-def-01"));
        QVERIFY(qAbs(e->createdAt.msecsTo(QDateTime::currentDateTimeUtc())) < 5000);

        const QByteArray csv = "a,b\n1,2\n";
        const auto csvId = sendEventTransactional(db, "t", "/s", csv, withContentType("text/csv"));
        QVERIFY(csvId.isOk());
        QCOMPARE(storage->event(*csvId)->data, csv);
        QCOMPARE(storage->event(*csvId)->contentType, QStringLiteral("text/csv"));

        // A generated id is a version-7 UUID.
        const auto generated = sendEventTransactional(db, "t", "/s", QJsonObject{});
        QVERIFY(generated.isOk());
        QCOMPARE(generated->size(), 36);
        QCOMPARE(generated->at(14), QLatin1Char('7'));

        // Text outside ASCII, bytes that are not text, absent attributes as NULL and an empty payload as an
        // empty value (never NULL), whichever way the dialect binds them (SQLite: with its own calls).
        SendEventOptions wide;
        wide.eventId = QStringLiteral("id-Zürich-\u2603");
        wide.contentType = QStringLiteral("application/octet-stream");
        wide.subject = QStringLiteral("Straße 7 \u2603");
        wide.orderingKey = QStringLiteral("key-\u00fc");
        wide.replayOf = QStringLiteral("earlier-\u00e9");
        const QByteArray binary("a\0b\0\xff\xfe c", 8);
        QVERIFY(sendEventTransactional(db, QStringLiteral("t.größe"), QStringLiteral("/\u00e4"), binary, wide).isOk());
        const auto w = storage->event(wide.eventId);
        QCOMPARE(w->type, QStringLiteral("t.größe"));
        QCOMPARE(w->source, QStringLiteral("/\u00e4"));
        QCOMPARE(w->subject, wide.subject);
        QCOMPARE(w->orderingKey, wide.orderingKey);
        QCOMPARE(w->replayOf, wide.replayOf);
        QCOMPARE(w->data, binary);
        const auto empty = sendEventTransactional(db, "t", "/s", QByteArray(), withContentType("text/plain"));
        QVERIFY2(empty.isOk(), qPrintable(empty.error().message()));
        QCOMPARE(storage->event(*empty)->data, QByteArray());
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE id = '%1' AND subject IS NULL AND "
                                           "ordering_key IS NULL AND replay_of IS NULL AND extensions IS NULL AND "
                                           "data IS NOT NULL")
                                .arg(*empty))
                     .toInt(),
            1);
    }

    void badInputWritesNothing_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("source");
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("extension");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty type") << ""
                                    << "/s" << QByteArray("{}") << ""
                                    << "type must not be empty";
        QTest::newRow("empty source") << "t"
                                      << " " << QByteArray("{}") << ""
                                      << "source must not be empty";
        QTest::newRow("invalid json") << "t"
                                      << "/s" << QByteArray("{\"a\":") << ""
                                      << "not valid JSON";
        QTest::newRow("two json values") << "t"
                                         << "/s" << QByteArray("{} {}") << ""
                                         << "not valid JSON";
        QTest::newRow("bad extension name") << "t"
                                            << "/s" << QByteArray("{}") << "Trace-Parent"
                                            << "lower-case";
        QTest::newRow("reserved extension") << "t"
                                            << "/s" << QByteArray("{}") << "subject"
                                            << "core attribute";
        QTest::newRow("deep json") << "t"
                                   << "/s" << QByteArray(5000, '[') + QByteArray(5000, ']') << ""
                                   << "not valid JSON";
    }

    void badInputWritesNothing()
    {
        QFETCH(QString, type);
        QFETCH(QString, source);
        QFETCH(QByteArray, data);
        QFETCH(QString, extension);
        QFETCH(QString, expected);
        const ConnectionSpec path = freshPath();
        auto storage = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        SendEventOptions o;
        if (!extension.isEmpty())
            o.extensions.insert(extension, QStringLiteral("x"));
        const auto r = sendEventTransactional(db, type, source, data, o);
        QVERIFY(!r.isOk());
        QCOMPARE(r.error().code(), Error::InvalidArgument);
        QVERIFY2(r.error().message().contains(expected), qPrintable(r.error().message()));
        QCOMPARE(storage->countEvents({}).value(), 0);
    }

    void duplicateIdIsAClearError()
    {
        const ConnectionSpec path = freshPath();
        auto storage = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        SendEventOptions o;
        o.eventId = QStringLiteral("dup");
        QVERIFY(sendEventTransactional(db, "t", "/s", QJsonObject{}, o).isOk());
        const auto again = sendEventTransactional(db, "t", "/s", QJsonObject{}, o);
        QCOMPARE(again.error().code(), Error::DuplicateId);
        QCOMPARE(again.error().message(), QStringLiteral("an event with id 'dup' is already in the outbox"));
        QCOMPARE(storage->countEvents({}).value(), 1);
    }

    void leasesKeepTwoRelayersApart()
    {
        const ConnectionSpec path = freshPath();
        auto a = testsupport::openStorage(path);
        auto b = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 25; ++i)
            enqueue(app.db());
        const auto first = relay(a)->claim("relayer-a", 10, 60000);
        const auto second = relay(b)->claim("relayer-b", 100, 60000);
        QCOMPARE(first->size(), 10);
        QCOMPARE(second->size(), 15);
        QSet<QString> ids;
        for (const auto &e : *first)
            ids.insert(e.id);
        for (const auto &e : *second)
            QVERIFY(!ids.contains(e.id));
        QCOMPARE(relay(a)->claim("relayer-a", 100, 60000)->size(), 0); // all leased
        QCOMPARE(a->stats()->inFlight, 25);
        // Claimed in enqueue order.
        for (qsizetype i = 1; i < first->size(); ++i)
            QVERIFY(first->at(i - 1).sequence < first->at(i).sequence);
    }

    // Another relayer in the middle of its claim holds the first due rows locked: a claim beside it takes the
    // next ones instead of coming back empty (on MariaDB it read the same candidates and found them all locked,
    // and a drain ended there with events due). Then a stop gives back every lease it holds (releaseAll reads
    // them first and releases them by sequence), and only its own.
    void claimBesideAnotherClaimTakesTheNextRows()
    {
        if (!testsupport::isServer())
            QSKIP("SQLite has one writer: a claim waits for the other instead");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 30; ++i)
            enqueue(app.db());
        AppConnection other(path);
        QVERIFY(other.db().transaction());
        QSqlQuery lock(other.db());
        // PostgreSQL's claim locks the events' queue rows (schema version 10).
        QVERIFY2(lock.exec(QStringLiteral("SELECT seq FROM %1 ORDER BY seq LIMIT 10 FOR UPDATE")
                               .arg(QLatin1String(testsupport::leaseTable()))),
            qPrintable(lock.lastError().text()));
        QSet<qint64> locked;
        while (lock.next())
            locked.insert(lock.value(0).toLongLong());
        QCOMPARE(locked.size(), 10);
        const auto claimed = relay(s)->claim("beside", 10, 60000);
        QVERIFY2(claimed.isOk(), qPrintable(claimed.error().message()));
        QCOMPARE(claimed->size(), 10);
        for (const OutboxEvent &e : *claimed)
            QVERIFY2(!locked.contains(e.sequence), qPrintable(QString::number(e.sequence)));
        QVERIFY(other.db().rollback());

        QCOMPARE(relay(s)->claim("someone-else", 5, 60000)->size(), 5);
        QVERIFY(!relay(s)->releaseAll("beside").isError());
        const QString leases = testsupport::eventsWithLeases();
        QCOMPARE(
            app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner = 'beside'").arg(leases)).toInt(), 0);
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner = 'someone-else'").arg(leases))
                     .toInt(),
            5);
        QCOMPARE(relay(s)->claim("again", 100, 60000)->size(), 25); // all but someone-else's five
    }

    void expiredLeaseIsClaimableAgain()
    {
        const ConnectionSpec path = freshPath();
        auto dead = testsupport::openStorage(path);
        auto alive = testsupport::openStorage(path);
        AppConnection app(path);
        const QString id = enqueue(app.db());
        QCOMPARE(relay(dead)->claim("dead-relayer", 10, 150)->size(), 1);
        QCOMPARE(relay(alive)->claim("alive", 10, 60000)->size(), 0);
        QTest::qWait(200);
        const auto reclaimed = relay(alive)->claim("alive", 10, 60000);
        QCOMPARE(reclaimed->size(), 1);
        QCOMPARE(reclaimed->first().id, id);
        // The dead relayer's late write-back no longer applies: the lease is not its own. Nor is its attempt
        // recorded, and it is told that nothing was written.
        QSet<qint64> written{-1};
        QVERIFY(
            !relay(dead)
                 ->complete("dead-relayer",
                     {record(reclaimed->first().sequence, EventStatus::Pending, 0, "timed out after 10 ms")}, &written)
                 .isError());
        QVERIFY(written.isEmpty());
        QCOMPARE(alive->event(id)->status, EventStatus::Pending);
        QCOMPARE(alive->event(id)->leaseOwner, QStringLiteral("alive"));
        QCOMPARE(alive->attempts(id)->size(), 0);
        QVERIFY(!relay(alive)
                     ->complete("alive", {record(reclaimed->first().sequence, EventStatus::Sent, 200)}, &written)
                     .isError());
        QCOMPARE(written, QSet<qint64>{reclaimed->first().sequence});
        QCOMPARE(alive->attempts(id)->size(), 1); // the delivering attempt only
    }

    // A late write-back of deliveries, one of whose leases another relayer took meanwhile: what it still holds
    // is written, the other is left to its new holder, and the caller learns which is which (on MySQL the
    // delivered-only write-back reads that back only when it matched fewer rows than it had results).
    void lateDeliveredWriteBackWritesOnlyWhatItStillHolds()
    {
        const ConnectionSpec path = freshPath();
        auto late = testsupport::openStorage(path);
        auto other = testsupport::openStorage(path);
        AppConnection app(path);
        const QString first = enqueue(app.db());
        const QString second = enqueue(app.db());
        const auto batch = *relay(late)->claim("late-relayer", 10, 150);
        QCOMPARE(batch.size(), 2);
        QTest::qWait(200);
        const auto taken = *relay(other)->claim("other", 1, 60000);
        QCOMPARE(taken.size(), 1);
        QCOMPARE(taken.first().id, first);
        QSet<qint64> written{-1};
        QVERIFY(!relay(late)
                     ->complete("late-relayer",
                         {record(batch[0].sequence, EventStatus::Sent, 200),
                             record(batch[1].sequence, EventStatus::Sent, 200)},
                         &written)
                     .isError());
        QCOMPARE(written, QSet<qint64>{batch[1].sequence});
        QCOMPARE(other->event(second)->status, EventStatus::Sent);
        QCOMPARE(other->event(first)->status, EventStatus::Pending);
        QCOMPARE(other->event(first)->leaseOwner, QStringLiteral("other"));
        QVERIFY(!relay(other)
                     ->complete("other", {record(taken.first().sequence, EventStatus::Sent, 200)}, &written)
                     .isError());
        QCOMPARE(written, QSet<qint64>{taken.first().sequence});
        QCOMPARE(other->event(first)->status, EventStatus::Sent);
    }

    void completeWritesStatusesAndHistoryInTwoStatements()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 3; ++i)
            enqueue(app.db());
        const auto batch = *relay(s)->claim("r", 10, 60000);
        const qint64 before = relay(s)->statementCount();
        QVERIFY(!relay(s)
                     ->complete("r",
                         {record(batch[0].sequence, EventStatus::Sent, 202),
                             record(batch[1].sequence, EventStatus::Pending, 503, "HTTP 503: busy"),
                             record(batch[2].sequence, EventStatus::Failed, 404, "HTTP 404: gone")})
                     .isError());
        // MySQL/MariaDB first locks the rows still held (no UPDATE ... RETURNING there): one statement more.
        const int lockingRead = testsupport::isMysql() ? 1 : 0;
        QCOMPARE(relay(s)->statementCount() - before, 2 + lockingRead);
        const auto sent = *s->event(batch[0].id);
        QCOMPARE(sent.status, EventStatus::Sent);
        QVERIFY(sent.sentAt.isValid());
        // The delivering attempt is kept on the row and shown in the history like the others.
        const auto delivered = *s->attempts(batch[0].id);
        QCOMPARE(delivered.size(), 1);
        QCOMPARE(delivered.first().outcome, Attempt::Outcome::Sent);
        QCOMPARE(delivered.first().httpStatus, 202);
        QCOMPARE(delivered.first().relayer, QStringLiteral("r"));
        QCOMPARE(delivered.first().durationMs, 3);
        QCOMPARE(delivered.first().attemptedAt, sent.sentAt);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts").toInt(), 2);
        // A batch that only delivered writes its rows and nothing else: one statement, on every database.
        enqueue(app.db());
        const auto next = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(next.size(), 1);
        const qint64 beforeNext = relay(s)->statementCount();
        QVERIFY(!relay(s)->complete("r", {record(next[0].sequence, EventStatus::Sent, 200)}).isError());
        QCOMPARE(relay(s)->statementCount() - beforeNext, 1);
        QCOMPARE(s->attempts(next[0].id)->size(), 1);
        QCOMPARE(sent.attempts, 1);
        QVERIFY(sent.leaseOwner.isEmpty());
        const auto retry = *s->event(batch[1].id);
        QCOMPARE(retry.status, EventStatus::Pending);
        QCOMPARE(retry.lastHttpStatus, 503);
        QCOMPARE(retry.lastError, QStringLiteral("HTTP 503: busy"));
        QVERIFY(retry.nextAttemptAt > QDateTime::currentDateTimeUtc().addSecs(50));
        const auto failed = *s->event(batch[2].id);
        QCOMPARE(failed.status, EventStatus::Failed);
        const auto history = *s->attempts(batch[2].id);
        QCOMPARE(history.size(), 1);
        QCOMPARE(history.first().httpStatus, 404);
        QCOMPARE(history.first().error, QStringLiteral("HTTP 404: gone"));
        QCOMPARE(history.first().outcome, Attempt::Outcome::Failed);
        QCOMPARE(history.first().relayer, QStringLiteral("r"));
    }

    // A batch in which every event was delivered is written in its short form (SQLite); each row still gets
    // its own HTTP status and duration, and a row whose lease another relayer took is left alone.
    void deliveredBatchKeepsEachEventsResult()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 4; ++i)
            enqueue(app.db());
        const auto batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 4);
        QSqlQuery q(app.db());
        QVERIFY(q.exec(QStringLiteral("UPDATE %1 SET lease_owner = 'other' WHERE seq = %2")
                           .arg(QLatin1String(testsupport::leaseTable()))
                           .arg(batch[3].sequence)));
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch(), Qt::UTC);
        QList<DeliveryRecord> records;
        const int statuses[] = {200, 204, 0, 200}; // 0: delivered without HTTP (a custom sender)
        for (int i = 0; i < 4; ++i) {
            DeliveryRecord r = record(batch[i].sequence, EventStatus::Sent, statuses[i]);
            r.attemptedAt = at;
            r.durationMs = 10 + i;
            records << r;
        }
        const qint64 before = relay(s)->statementCount();
        QVERIFY(!relay(s)->complete("r", records).isError());
        QCOMPARE(relay(s)->statementCount() - before, 1);
        for (int i = 0; i < 3; ++i) {
            const auto e = *s->event(batch[i].id);
            QCOMPARE(e.status, EventStatus::Sent);
            QCOMPARE(e.lastHttpStatus, statuses[i]);
            QCOMPARE(e.sentAt, at);
            QCOMPARE(e.attempts, 1);
            QVERIFY(e.leaseOwner.isEmpty());
            QVERIFY(e.lastError.isEmpty());
            const auto history = *s->attempts(batch[i].id);
            QCOMPARE(history.size(), 1);
            QCOMPARE(history.first().durationMs, 10 + i);
            QCOMPARE(history.first().relayer, QStringLiteral("r"));
            QCOMPARE(history.first().httpStatus, statuses[i]);
        }
        QCOMPARE(app.scalar(QStringLiteral("SELECT last_http_status IS NULL FROM outbox_events WHERE seq = %1")
                                .arg(batch[2].sequence))
                     .toInt(),
            1);
        const auto taken = *s->event(batch[3].id);
        QCOMPARE(taken.status, EventStatus::Pending);
        QCOMPARE(taken.leaseOwner, QStringLiteral("other"));
        QCOMPARE(taken.attempts, 0);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts").toInt(), 0);
    }

    // A batch delivered in one request (the same time, answer and duration for every event) is written with
    // its values bound once (SQLite and MySQL: one statement, the rows counted); when a lease was taken
    // meanwhile the rows written are asked for, and the taken row is left to its holder. Delivered without
    // HTTP, the status stays empty.
    void deliveredBatchWithOneAnswerWritesWhatItHolds()
    {
        const ConnectionSpec path = freshPath();
        const bool counted = !testsupport::isPostgres(); // SQLite and MySQL: the statements below
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 6; ++i)
            enqueue(app.db());
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch(), Qt::UTC);
        auto answered = [&](const QList<OutboxEvent> &events, int http) {
            QList<DeliveryRecord> records;
            for (const OutboxEvent &e : events) {
                DeliveryRecord r = record(e.sequence, EventStatus::Sent, http);
                r.attemptedAt = at;
                r.durationMs = 17;
                records << r;
            }
            return records;
        };

        const auto batch = *relay(s)->claim("r", 3, 60000);
        QCOMPARE(batch.size(), 3);
        QCOMPARE(batch.first().leaseOwner, QStringLiteral("r"));
        QCOMPARE(batch.first().status, EventStatus::Pending);
        QVERIFY(batch.first().leaseExpiresAt > at.addSecs(50));
        QSet<qint64> written{-1};
        qint64 before = relay(s)->statementCount();
        QVERIFY(!relay(s)->complete("r", answered(batch, 202), &written).isError());
        if (counted)
            QCOMPARE(relay(s)->statementCount() - before, 1);
        QCOMPARE(written, QSet<qint64>({batch[0].sequence, batch[1].sequence, batch[2].sequence}));
        for (const OutboxEvent &claimed : batch) {
            const auto e = *s->event(claimed.id);
            QCOMPARE(e.status, EventStatus::Sent);
            QCOMPARE(e.lastHttpStatus, 202);
            QCOMPARE(e.sentAt, at);
            QCOMPARE(e.attempts, 1);
            QVERIFY(e.leaseOwner.isEmpty());
            QCOMPARE(app.scalar(QStringLiteral("SELECT last_duration_ms FROM outbox_events WHERE seq = %1")
                                    .arg(claimed.sequence))
                         .toInt(),
                17);
        }

        const auto rest = *relay(s)->claim("r", 3, 60000);
        QCOMPARE(rest.size(), 3);
        QSqlQuery q(app.db());
        QVERIFY(q.exec(QStringLiteral("UPDATE %1 SET lease_owner = 'other' WHERE seq = %2")
                           .arg(QLatin1String(testsupport::leaseTable()))
                           .arg(rest[1].sequence)));
        before = relay(s)->statementCount();
        QVERIFY(!relay(s)->complete("r", answered(rest, 0), &written).isError());
        if (counted)
            QCOMPARE(relay(s)->statementCount() - before, 2); // the write, then which rows it wrote
        QCOMPARE(written, QSet<qint64>({rest[0].sequence, rest[2].sequence}));
        QCOMPARE(s->event(rest[0].id)->status, EventStatus::Sent);
        QCOMPARE(app.scalar(QStringLiteral("SELECT last_http_status IS NULL FROM outbox_events WHERE seq = %1")
                                .arg(rest[2].sequence))
                     .toInt(),
            1);
        const auto taken = *s->event(rest[1].id);
        QCOMPARE(taken.status, EventStatus::Pending);
        QCOMPARE(taken.leaseOwner, QStringLiteral("other"));
        QCOMPARE(taken.attempts, 0);
    }

    // The same write-back on a real full disk (a 2 MiB tmpfs, where mounting is permitted): the statement
    // fails at its commit, the caller hears of it and learns that nothing was written, and the rows stay
    // pending under the lease until the same results are written once there is room.
    void deliveredBatchWithOneAnswerOnAFullDisk()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite condition");
        QTemporaryDir mountPoint;
        if (!testsupport::mountTmpfs(mountPoint.path(), QStringLiteral("2m")))
            QSKIP("mounting a tmpfs is not permitted here");
        std::unique_ptr<Storage> s;
        auto unmount = qScopeGuard([&] {
            s.reset();
            testsupport::unmountTmpfs(mountPoint.path());
        });
        const ConnectionSpec path = ConnectionSpec::sqlite(mountPoint.filePath(QStringLiteral("outbox.db")));
        s = testsupport::openStorage(path);
        {
            AppConnection app(path);
            for (int i = 0; i < 3; ++i)
                enqueue(app.db());
        }
        const auto batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 3);
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch(), Qt::UTC);
        QList<DeliveryRecord> records;
        for (const OutboxEvent &e : batch) {
            DeliveryRecord r = record(e.sequence, EventStatus::Sent, 202);
            r.attemptedAt = at;
            records << r;
        }
        const QString filler = mountPoint.filePath(QStringLiteral("filler"));
        {
            QFile f(filler);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const QByteArray chunk(4096, 'f');
            while (f.write(chunk) == chunk.size() && f.flush()) { }
        }
        QSet<qint64> written{-1};
        const Error full = relay(s)->complete("r", records, &written);
        QVERIFY2(full, "the write-back on a full disk reported no error");
        QVERIFY2(full.message().contains(QStringLiteral("full")), qPrintable(full.message()));
        QVERIFY(written.isEmpty());
        QVERIFY(QFile::remove(filler));
        for (const OutboxEvent &e : batch) {
            const auto row = *s->event(e.id);
            QCOMPARE(row.status, EventStatus::Pending);
            QCOMPARE(row.leaseOwner, QStringLiteral("r"));
        }
        QVERIFY(!relay(s)->complete("r", records, &written).isError());
        QCOMPARE(written.size(), 3);
        for (const OutboxEvent &e : batch)
            QCOMPARE(s->event(e.id)->status, EventStatus::Sent);
    }

    // Error texts go through the batch's JSON: quotes, backslashes, control and non-ASCII characters come
    // back as they were.
    void errorTextsSurviveTheWriteBack()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 2; ++i)
            enqueue(app.db());
        const auto batch = *relay(s)->claim("r", 10, 60000);
        const QString retryText =
            QStringLiteral("HTTP 503: \"busy\" \\ back in 5 s\ttab \u00fcber \u65e5\u672c \U0001F600");
        const QString failedText = QStringLiteral("HTTP 400: {\"error\":[1,2]}\nline two");
        QVERIFY(!relay(s)
                     ->complete("r",
                         {record(batch[0].sequence, EventStatus::Pending, 503, retryText),
                             record(batch[1].sequence, EventStatus::Failed, 400, failedText)})
                     .isError());
        QCOMPARE(s->event(batch[0].id)->lastError, retryText);
        QCOMPARE(s->event(batch[1].id)->lastError, failedText);
        QCOMPARE(s->attempts(batch[0].id)->first().error, retryText);
        QCOMPARE(s->attempts(batch[0].id)->first().outcome, Attempt::Outcome::Retry);
        QCOMPARE(s->attempts(batch[1].id)->first().error, failedText);
        QCOMPARE(s->attempts(batch[1].id)->first().httpStatus, 400);
    }

    // The health header and stats list the first 1,000 blocked keys, and count them all.
    void blockedKeysAreCountedPastTheList()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlDatabase db = app.db();
        QVERIFY(db.transaction());
        for (int i = 0; i < 1050; ++i) {
            SendEventOptions keyed;
            keyed.orderingKey = QStringLiteral("key-%1").arg(i, 4, 10, QLatin1Char('0'));
            enqueue(db, "t", keyed);
        }
        QVERIFY(db.commit());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("UPDATE outbox_events SET status = 'failed'")));
        const OutboxStats st = *s->stats();
        QCOMPARE(st.blockedKeys.size(), 1000);
        QCOMPARE(st.blockedKeys.first(), QStringLiteral("key-0000"));
        QCOMPARE(st.blockedKeyCount, 1050);
    }

    void orderingKeyHoldsBackLaterEvents()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        SendEventOptions keyA;
        keyA.orderingKey = QStringLiteral("A");
        const QString a1 = enqueue(app.db(), "t", keyA);
        const QString a2 = enqueue(app.db(), "t", keyA);
        const QString free = enqueue(app.db());
        auto batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 2); // a1 and the unkeyed event; a2 waits for a1
        QCOMPARE(batch[0].id, a1);
        QCOMPARE(batch[1].id, free);
        QVERIFY(!relay(s)->complete("r", {record(batch[0].sequence, EventStatus::Failed, 400, "bad")}).isError());
        QCOMPARE(relay(s)->claim("r", 10, 60000)->size(), 0); // a1 failed: key A is blocked
        QCOMPARE(s->stats()->blockedKeys, QStringList{"A"});
        QCOMPARE(s->stats()->blockedKeyCount, 1);
        QCOMPARE(s->retry({a1})->changed, 1);
        batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QCOMPARE(batch[0].id, a1);
        QVERIFY(!relay(s)->complete("r", {record(batch[0].sequence, EventStatus::Sent, 200)}).isError());
        batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QCOMPARE(batch[0].id, a2);
    }

    // SQLite parks the events that wait behind an earlier unsent event of their key, so a claim never walks
    // past them; sending or deleting the head makes the next one due.
    void blockedEventsAreParkedUntilTheirHeadGoes()
    {
        if (testsupport::isServer())
            QSKIP("parking is SQLite's (PostgreSQL checks the head in the claim alone)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        SendEventOptions keyA;
        keyA.orderingKey = QStringLiteral("A");
        const QString a1 = enqueue(app.db(), "t", keyA);
        const QString a2 = enqueue(app.db(), "t", keyA);
        const QString a3 = enqueue(app.db(), "t", keyA);
        auto parked = [&](const QString &id) { return s->event(id)->nextAttemptAt.date().year() == 9999; };
        QVERIFY(!parked(a1));
        QVERIFY(parked(a2));
        QVERIFY(parked(a3));
        auto batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QVERIFY(!relay(s)->complete("r", {record(batch[0].sequence, EventStatus::Sent, 200)}).isError());
        QVERIFY(!parked(a2)); // the new head
        QVERIFY(parked(a3));
        batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QCOMPARE(batch[0].id, a2);
        QVERIFY(!relay(s)->complete("r", {record(batch[0].sequence, EventStatus::Failed, 400, "bad")}).isError());
        QVERIFY(parked(a3)); // blocked behind the failed a2
        QCOMPARE(s->remove({a2})->changed, 1); // the operator deletes the poison event
        QVERIFY(!parked(a3));
        batch = *relay(s)->claim("r", 10, 60000);
        QCOMPARE(batch.size(), 1);
        QCOMPARE(batch[0].id, a3);
        // A replay of a sent event joins the end of its key: parked while a3 is unsent.
        const QString replayed = s->replay({a1})->newIds.value(0);
        QVERIFY(parked(replayed));
        // Deleting a parked follower leaves the head as it is.
        const QString a5 = enqueue(app.db(), "t", keyA);
        QCOMPARE(s->remove({replayed})->changed, 1);
        QVERIFY(parked(a5));
    }

    void claimUsesTheDueIndex()
    {
        if (testsupport::isServer())
            QSKIP("the SQLite query plan (PostgreSQL's: claimWalksTheDueIndexOnPostgres)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlQuery q(app.db());
        QVERIFY(q.exec("EXPLAIN QUERY PLAN SELECT e.seq FROM outbox_events e INDEXED BY outbox_events_due WHERE "
                       "e.status = 'pending' AND e.next_attempt_at <= 5"
                       " ORDER BY e.next_attempt_at, e.seq LIMIT 100"));
        QStringList plan;
        while (q.next())
            plan << q.value(3).toString();
        QVERIFY2(plan.join('|').contains("outbox_events_due"), qPrintable(plan.join('|')));
        QVERIFY2(!plan.join('|').contains("TEMP B-TREE"), qPrintable(plan.join('|')));
    }

    // PostgreSQL's planner picks by statistics, and a queue filled since it was last analysed has statistics
    // that say it is empty: never analysed, or analysed after its rows were deleted (its pages still there).
    // Either way the claim walks the due index for its candidates and rewrites the rows it locked by their
    // ctid: no sort, no scan of a table, no plan-setting statements around it (the session's settings are
    // as they were).
    void claimWalksTheDueIndexOnPostgres()
    {
        const ConnectionSpec path = freshPath();
        if (path.driver != QLatin1String("QPSQL"))
            QSKIP("PostgreSQL's claim plan");
        auto s = testsupport::openStorage(path);
        const detail::Dialect *d = detail::Dialect::forDriver(path.driver);
        QString claim = d->sql(QStringLiteral("claim")).replace(QLatin1String("{{types}}"), QString());
        for (const char *value : {"'relayer-a'", "60000", "60000", "100"}) // owner, lease twice, limit
            claim.replace(claim.indexOf(QLatin1Char('?')), 1, QLatin1String(value));
        QSqlQuery q(s->database());
        // 20,000 due events (a bulk insert: the version's trigger queues them); at a few thousand the planner
        // may pick a scan and a sort, which then costs as little as the walk.
        auto enqueueMany = [&] {
            QVERIFY2(q.exec(QStringLiteral(
                         "INSERT INTO outbox_events (id, type, source, data, next_attempt_at, created_at) SELECT "
                         "'bulk-' || g, 'com.example.bulk', '/bulk', '\\x7b7d', now() - interval '1 minute', now() "
                         "FROM generate_series(1, 20000) g")),
                qPrintable(q.lastError().text()));
        };
        auto checkPlan = [&](const char *when) {
            QVERIFY2(q.exec(QStringLiteral("EXPLAIN ") + claim), qPrintable(q.lastError().text()));
            QStringList lines;
            while (q.next())
                lines << q.value(0).toString().trimmed();
            const QString plan = QLatin1String(when) + QLatin1String(": ") + lines.join('|');
            QVERIFY2(plan.contains(QLatin1String("Index Scan using outbox_queue_due")), qPrintable(plan));
            QVERIFY2(plan.contains(QLatin1String("Tid Scan on outbox_queue")), qPrintable(plan));
            QVERIFY2(!plan.contains(QLatin1String("Seq Scan")), qPrintable(plan));
            QVERIFY2(!plan.contains(QLatin1String("Sort")), qPrintable(plan));
        };

        enqueueMany();
        checkPlan("never analysed");
        auto claimed = relay(s)->claim(QStringLiteral("relayer-a"), 100, 60000);
        QVERIFY(claimed.isOk());
        QCOMPARE(claimed->size(), 100);
        QCOMPARE(claimed->first().sequence, 1);
        QCOMPARE(claimed->last().sequence, 100);
        QCOMPARE(claimed->first().data, QByteArray("{}"));

        QVERIFY2(q.exec(QStringLiteral("ANALYZE outbox_queue")), qPrintable(q.lastError().text()));
        QVERIFY2(q.exec(QStringLiteral("DELETE FROM outbox_events")), qPrintable(q.lastError().text()));
        QVERIFY2(q.exec(QStringLiteral("ANALYZE outbox_queue")), qPrintable(q.lastError().text()));
        QVERIFY(q.exec(QStringLiteral("SELECT reltuples, relpages FROM pg_class WHERE relname = 'outbox_queue'")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toDouble(), 0.0);
        QVERIFY(q.value(1).toInt() > 0);
        enqueueMany();
        checkPlan("analysed empty, then filled");
        claimed = relay(s)->claim(QStringLiteral("relayer-a"), 100, 60000);
        QVERIFY(claimed.isOk());
        QCOMPARE(claimed->size(), 100);
        QCOMPARE(claimed->first().sequence, 20001);
        QCOMPARE(claimed->last().sequence, 20100);
        QVERIFY(q.exec(QStringLiteral("SHOW enable_sort")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("on"));
    }

    // The rate chart's hour before: sent events by their time, failed ones by the attempt that failed them,
    // in buckets; events older than the newest N, and times before `since`, are left out.
    void deliveryHistoryCountsByBucket()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 6; ++i)
            enqueue(app.db(), "a");
        const auto batch = *relay(s)->claim("r", 6, 60000);
        QCOMPARE(batch.size(), 6);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QDateTime twenty = QDateTime::fromSecsSinceEpoch((now.toSecsSinceEpoch() - 1200) / 10 * 10 + 3, Qt::UTC);
        const QDateTime thirty = twenty.addSecs(-600);
        const QDateTime old = now.addSecs(-7200);
        QList<DeliveryRecord> records;
        auto add = [&](qint64 seq, EventStatus status, const QDateTime &at) {
            DeliveryRecord r = record(
                seq, status, status == EventStatus::Sent ? 200 : 404, status == EventStatus::Sent ? QString() : "x");
            r.attemptedAt = at;
            records << r;
        };
        add(batch[0].sequence, EventStatus::Sent, twenty);
        add(batch[1].sequence, EventStatus::Sent, twenty.addSecs(2));
        add(batch[2].sequence, EventStatus::Sent, old);
        add(batch[3].sequence, EventStatus::Failed, thirty);
        add(batch[4].sequence, EventStatus::Failed, thirty.addSecs(1));
        add(batch[5].sequence, EventStatus::Sent, twenty); // the oldest of the newest 5 is batch[1]
        QVERIFY(!relay(s)->complete("r", records).isError());
        auto h = s->deliveryHistory(now.addSecs(-3600), 10, 100);
        QVERIFY2(h.isOk(), qPrintable(h.error().message()));
        QCOMPARE(h->size(), 2);
        QCOMPARE(h->at(0).start, QDateTime::fromSecsSinceEpoch(thirty.toSecsSinceEpoch() / 10 * 10, Qt::UTC));
        QCOMPARE(h->at(0).sent, 0);
        QCOMPARE(h->at(0).failed, 2);
        QCOMPARE(h->at(1).start, QDateTime::fromSecsSinceEpoch(twenty.toSecsSinceEpoch() / 10 * 10, Qt::UTC));
        QCOMPARE(h->at(1).sent, 3);
        QCOMPARE(h->at(1).failed, 0);
        // Only the newest 5 events: the first one sent is not among them.
        h = s->deliveryHistory(now.addSecs(-3600), 10, 5);
        QCOMPARE(h->at(1).sent, 2);
    }

    // Retry to another URL: only failed events nobody holds are taken, with a note in their history; the
    // outcome is written by complete() like any delivery; another taker gets none of them meanwhile.
    void takeFailedForADeliveryElsewhere()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QStringList ids;
        for (int i = 0; i < 4; ++i)
            ids << enqueue(app.db(), "a");
        const auto batch = *relay(s)->claim("r", 3, 60000);
        QCOMPARE(batch.size(), 3);
        QVERIFY(!relay(s)
                     ->complete("r",
                         {record(batch[0].sequence, EventStatus::Failed, 404, "x"),
                             record(batch[1].sequence, EventStatus::Failed, 503, "y"),
                             record(batch[2].sequence, EventStatus::Sent, 200)})
                     .isError());
        const qint64 pendingSeq = s->event(ids[3])->sequence;
        const QString note = QStringLiteral("manual retry to http://elsewhere/");
        auto taken = s->takeFailed(
            "console-1", {batch[2].sequence, batch[1].sequence, batch[0].sequence, pendingSeq}, 60000, note);
        QVERIFY2(taken.isOk(), qPrintable(taken.error().message()));
        QCOMPARE(taken->size(), 2); // the sent one and the pending one are not failed
        QCOMPARE(taken->at(0).sequence, batch[0].sequence);
        QCOMPARE(taken->at(1).sequence, batch[1].sequence);
        QVERIFY(!taken->at(0).data.isEmpty());
        QCOMPARE(s->attempts(taken->at(0).id)->last().outcome, Attempt::Outcome::Operator);
        QCOMPARE(s->attempts(taken->at(0).id)->last().error, note);
        QCOMPARE(s->takeFailed("console-2", {batch[0].sequence, batch[1].sequence}, 60000, note)->size(), 0);
        QCOMPARE(s->attempts(taken->at(0).id)->size(), 2); // no note for what was not taken
        // One arrived, one failed again: written under the lease, which ends.
        QVERIFY(!relay(s)
                     ->complete("console-1",
                         {record(batch[0].sequence, EventStatus::Sent, 202),
                             record(batch[1].sequence, EventStatus::Failed, 501, "HTTP 501 Unsupported method")})
                     .isError());
        QCOMPARE(s->event(taken->at(0).id)->status, EventStatus::Sent);
        QCOMPARE(s->event(taken->at(1).id)->status, EventStatus::Failed);
        QCOMPARE(s->event(taken->at(1).id)->lastError, QStringLiteral("HTTP 501 Unsupported method"));
        QCOMPARE(s->event(taken->at(1).id)->leaseOwner, QString());
        QCOMPARE(s->event(taken->at(1).id)->attempts, 2);
        // Failed again, it can be taken again.
        QCOMPARE(s->takeFailed("console-2", {batch[1].sequence}, 60000, note)->size(), 1);
    }

    void operatorActions()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QStringList ids;
        for (int i = 0; i < 4; ++i)
            ids << enqueue(app.db(), i < 2 ? "a" : "b");
        const auto batch = *relay(s)->claim("r", 10, 60000);
        QVERIFY(!relay(s)
                     ->complete("r",
                         {record(batch[0].sequence, EventStatus::Sent, 200),
                             record(batch[1].sequence, EventStatus::Failed, 404, "x"),
                             record(batch[2].sequence, EventStatus::Failed, 404, "y")})
                     .isError());
        QVERIFY(!relay(s)->release("r", {batch[3].sequence}).isError());
        QCOMPARE(s->event(ids[3])->leaseOwner, QString());

        // retry: failed -> pending with the same id; a sent one is skipped
        auto r = *s->retry({ids[1], ids[0], ids[1], "no-such-id"});
        QCOMPARE(r.changed, 1);
        QCOMPARE(r.skipped, 2);
        QCOMPARE(s->event(ids[1])->status, EventStatus::Pending);
        QCOMPARE(s->event(ids[1])->attempts, 0);
        QVERIFY(s->event(ids[1])->lastError.isEmpty());
        // history kept, and the retry is in it: what, when, by whom
        s->setActor(QStringLiteral("alice@ops-host (outbox-console)"));
        const auto history = *s->attempts(ids[1]);
        QCOMPARE(history.size(), 2);
        QCOMPARE(history[0].outcome, Attempt::Outcome::Failed);
        QCOMPARE(history[1].outcome, Attempt::Outcome::Operator);
        QCOMPARE(history[1].error, QStringLiteral("manual retry"));
        QVERIFY2(history[1].relayer.contains(QLatin1Char('@')), qPrintable(history[1].relayer));
        QVERIFY(qAbs(history[1].attemptedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        QCOMPARE(s->attempts(ids[3])->size(), 0); // skipped: nothing recorded

        // retry all matching
        EventFilter typeB;
        typeB.type = QStringLiteral("b");
        QCOMPARE(s->retryMatching(typeB)->changed, 1);
        QCOMPARE(s->event(ids[2])->status, EventStatus::Pending);
        QCOMPARE(s->attempts(ids[2])->last().outcome, Attempt::Outcome::Operator);
        QCOMPARE(s->attempts(ids[2])->last().relayer, QStringLiteral("alice@ops-host (outbox-console)"));

        // replay: a new event with a new id and the replayof extension
        auto rep = *s->replay({ids[0], ids[3]});
        QCOMPARE(rep.changed, 1);
        QCOMPARE(rep.skipped, 1); // still pending
        const auto copy = *s->event(rep.newIds.first());
        QVERIFY(copy.id != ids[0]);
        QCOMPARE(copy.status, EventStatus::Pending);
        QCOMPARE(copy.replayOf, ids[0]);
        QCOMPARE(copy.extensions.value("replayof").toString(), ids[0]);
        QCOMPARE(copy.data, s->event(ids[0])->data);
        QCOMPARE(s->attempts(ids[0])->last().outcome, Attempt::Outcome::Operator);
        QCOMPARE(s->attempts(ids[0])->last().error, QStringLiteral("replayed as %1").arg(copy.id));

        // delete removes the event and its history
        auto d = *s->remove({ids[0], "nope"});
        QCOMPARE(d.changed, 1);
        QCOMPARE(d.skipped, 1);
        QVERIFY(!s->event(ids[0]).isOk());
        QCOMPARE(app.scalar(QStringLiteral("SELECT COUNT(*) FROM outbox_attempts a JOIN outbox_events e ON e.seq = "
                                           "a.event_seq WHERE e.id = '%1'")
                                .arg(ids[0]))
                     .toInt(),
            0);
        QCOMPARE(
            app.scalar("SELECT COUNT(*) FROM outbox_attempts WHERE event_seq NOT IN (SELECT seq FROM outbox_events)")
                .toInt(),
            0);
    }

    // Failed events grouped by type, HTTP status and cause, counted by the database; the numbers and ids that
    // differ from event to event do not split a group; a group's members are exactly its events.
    void failureGroupsCountByCause()
    {
        QCOMPARE(failureCause(QStringLiteral("timeout after 10012 ms  (gave up after 5 attempts)")),
            QStringLiteral("timeout after # ms (gave up after # attempts)"));
        QCOMPARE(failureCause(QStringLiteral("order 0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b: no stock, req deadbeef42")),
            QStringLiteral("order #: no stock, req #"));
        QCOMPARE(failureCause(QStringLiteral("unknown field 'address'")), QStringLiteral("unknown field 'address'"));

        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QVERIFY(app.db().transaction());
        QStringList ids;
        for (int i = 0; i < 12; ++i)
            ids << enqueue(app.db(), i < 9 ? "order.created" : "order.paid");
        QVERIFY(app.db().commit());
        const auto batch = *relay(s)->claim("r", 20, 60000);
        QCOMPARE(batch.size(), 12);
        QList<DeliveryRecord> records;
        for (int i = 0; i < 12; ++i) {
            const qint64 seq = batch[i].sequence;
            if (i < 5) // one cause, five texts
                records << record(
                    seq, EventStatus::Failed, 503, QStringLiteral("HTTP 503: busy, retry in %1 s").arg(i + 10));
            else if (i < 7) // the same text, another status
                records << record(seq, EventStatus::Failed, 500, QStringLiteral("HTTP 500: busy, retry in 10 s"));
            else if (i < 8)
                records << record(seq, EventStatus::Failed, 0, QStringLiteral("Connection refused"));
            else if (i < 9)
                records << record(seq, EventStatus::Sent, 200);
            else // another type, the first cause
                records << record(seq, EventStatus::Failed, 503, QStringLiteral("HTTP 503: busy, retry in 99 s"));
        }
        QVERIFY(!relay(s)->complete("r", records).isError());

        auto groups = s->failureGroups({});
        QVERIFY2(groups.isOk(), qPrintable(groups.error().message()));
        QCOMPARE(groups->size(), 4);
        const FailureGroup &top = groups->at(0);
        QCOMPARE(top.type, QStringLiteral("order.created"));
        QCOMPARE(top.httpStatus, 503);
        QCOMPARE(top.cause, QStringLiteral("HTTP #: busy, retry in # s"));
        QCOMPARE(top.count, 5);
        QVERIFY(top.example.startsWith(QLatin1String("HTTP 503: busy, retry in 1")));
        QVERIFY(top.firstSeen.isValid() && top.lastSeen >= top.firstSeen);
        QVERIFY(qAbs(top.lastSeen.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        QCOMPARE(groups->at(1).count, 3); // order.paid, 503
        QCOMPARE(groups->at(1).type, QStringLiteral("order.paid"));
        QCOMPARE(groups->at(2).count, 2); // 500
        QCOMPARE(groups->at(2).httpStatus, 500);
        QCOMPARE(groups->at(3).httpStatus, 0);
        QCOMPARE(groups->at(3).cause, QStringLiteral("Connection refused"));

        // The database's grouping and the row-by-row one (what other formats get) agree.
        auto rowByRow = s->Storage::failureGroups({});
        QVERIFY(rowByRow.isOk());
        QCOMPARE(rowByRow->size(), groups->size());
        for (int i = 0; i < groups->size(); ++i) {
            QCOMPARE(rowByRow->at(i).cause, groups->at(i).cause);
            QCOMPARE(rowByRow->at(i).count, groups->at(i).count);
            QCOMPARE(rowByRow->at(i).httpStatus, groups->at(i).httpStatus);
        }

        // The group's members, and a filter narrows the groups.
        auto members = s->failureGroupSequences(top, {});
        QVERIFY(members.isOk());
        QList<qint64> expected;
        for (int i = 0; i < 5; ++i)
            expected << batch[i].sequence;
        QCOMPARE(*members, expected);
        EventFilter paid;
        paid.type = QStringLiteral("order.paid");
        QCOMPARE(s->failureGroups(paid)->size(), 1);
        QCOMPARE(s->failureGroups(paid)->first().count, 3);
    }

    // The find box: an id (exact, or its start), a subject or an ordering key; LIKE's wildcards are literal.
    void findMatchesIdPrefixSubjectAndKey()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        SendEventOptions a;
        a.eventId = QStringLiteral("order-100_a");
        a.subject = QStringLiteral("customer-7");
        SendEventOptions b;
        b.eventId = QStringLiteral("order-1001");
        b.orderingKey = QStringLiteral("customer-7");
        SendEventOptions c;
        c.eventId = QStringLiteral("invoice-9");
        c.subject = QStringLiteral("50%");
        for (const SendEventOptions &o : {a, b, c})
            enqueue(app.db(), QStringLiteral("t"), o);
        auto ids = [&](const QString &text) {
            EventFilter f;
            f.find = text;
            QStringList found;
            QList<qint64> seqs;
            s->scanSequences(f, SortOrder{SortColumn::Sequence, false}, 100, [&](const QList<qint64> &chunk) {
                seqs += chunk;
                return true;
            });
            const auto rows = s->eventsBySequence(seqs, false);
            for (const OutboxEvent &e : *rows)
                found << e.id;
            found.sort();
            EventFilter counted;
            counted.find = text;
            if (*s->countEvents(counted) != found.size())
                found << QStringLiteral("count differs");
            return found;
        };
        QCOMPARE(ids(QStringLiteral("order-1001")), QStringList{QStringLiteral("order-1001")}); // the whole id
        QCOMPARE(ids(QStringLiteral("order-100")), (QStringList{"order-1001", "order-100_a"})); // its start
        QCOMPARE(ids(QStringLiteral("order-100_")), QStringList{QStringLiteral("order-100_a")}); // '_' literal
        QCOMPARE(ids(QStringLiteral("customer-7")), (QStringList{"order-1001", "order-100_a"})); // key, subject
        QCOMPARE(ids(QStringLiteral("50%")), QStringList{QStringLiteral("invoice-9")}); // a subject, '%' literal
        QCOMPARE(ids(QStringLiteral("%")), QStringList{});
        QCOMPARE(ids(QStringLiteral("nothing")), QStringList{});
    }

    void cleanupDeletesOnlyOldEventsOfTheGivenStatus()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QVERIFY(app.db().transaction());
        for (int i = 0; i < 2500; ++i)
            enqueue(app.db());
        QVERIFY(app.db().commit());
        auto batch = *relay(s)->claim("r", 3000, 60000);
        QList<DeliveryRecord> records;
        for (int i = 0; i < 2400; ++i)
            records << record(batch[i].sequence, EventStatus::Sent, 200);
        records << record(batch[2400].sequence, EventStatus::Failed, 404, "x");
        QVERIFY(!relay(s)->complete("r", records).isError());
        QVERIFY(!relay(s)->releaseAll("r").isError());
        QCOMPARE(
            *s->cleanup(QDateTime::currentDateTimeUtc().addSecs(-3600), {EventStatus::Sent}), 0); // none old enough
        QCOMPARE(*s->cleanup(QDateTime::currentDateTimeUtc().addSecs(1), {EventStatus::Sent}, 1000), 2400);
        const auto st = *s->stats();
        QCOMPARE(st.sent, 0);
        QCOMPARE(st.failed, 1);
        QCOMPARE(st.pending, 99);
        QCOMPARE(app.scalar("SELECT COUNT(*) FROM outbox_attempts").toInt(), 1);
    }

    // Cleanup of many rows in short transactions with the lock left free between them: an application
    // enqueues while it runs, each enqueue waiting at most a transaction or two, and nothing but the old sent
    // rows goes. (How much of the lock's time cleanup takes beside a relayer is measured, not tested:
    // outbox-bench --scenario retention.)
    void cleanupLeavesTheLockToAnotherWriter()
    {
        if (testsupport::isServer())
            QSKIP("SQLite's write lock (the servers lock rows)");
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        QSqlQuery q(app.db());
        const int old = 60000;
        QVERIFY(q.exec(QStringLiteral(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %1) "
            "INSERT INTO outbox_events (id, type, source, content_type, data, status, next_attempt_at, created_at) "
            "SELECT 'old-' || n, 't', '/test', 'application/json', '{}', 'sent', 0, 0 FROM g")
                           .arg(old)));
        std::atomic<int> deleted{-1};
        std::thread cleaner([&] {
            auto own = testsupport::openStorage(path);
            auto n = own->cleanup(QDateTime::currentDateTimeUtc().addSecs(-60), {EventStatus::Sent});
            deleted = n.isOk() ? *n : -2;
            own.reset();
        });
        auto joinIt = qScopeGuard([&] { cleaner.join(); });
        QSqlDatabase db = app.db();
        qint64 longest = 0;
        int during = 0;
        while (deleted == -1 && during < 200) {
            QElapsedTimer t;
            t.start();
            auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/test"), QByteArray("{}"));
            QVERIFY2(id.isOk(), qPrintable(id.error().message()));
            longest = qMax(longest, t.elapsed());
            ++during;
            QThread::msleep(2);
        }
        joinIt.dismiss();
        cleaner.join();
        QCOMPARE(deleted.load(), old);
        QVERIFY2(during >= 5, qPrintable(QStringLiteral("only %1 enqueues while cleanup ran").arg(during)));
        QVERIFY2(longest < 500, qPrintable(QStringLiteral("an enqueue waited %1 ms beside cleanup").arg(longest)));
        const auto st = *s->stats();
        QCOMPARE(st.sent, 0);
        QCOMPARE(st.pending, during);
    }

    void keysetPagingAndFilters()
    {
        const ConnectionSpec path = freshPath();
        auto s = testsupport::openStorage(path);
        AppConnection app(path);
        for (int i = 0; i < 30; ++i)
            enqueue(app.db(), i % 3 == 0 ? "x" : "y");
        PageRequest page;
        page.limit = 7;
        QList<qint64> seen;
        for (;;) {
            const auto rows = *s->listEvents({}, page);
            if (rows.isEmpty())
                break;
            for (const auto &e : rows)
                seen << e.sequence;
            page.afterSequence = rows.last().sequence;
        }
        QCOMPARE(seen.size(), 30);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()));
        EventFilter f;
        f.type = QStringLiteral("x");
        QCOMPARE(s->countEvents(f).value(), 10);
        PageRequest desc;
        desc.order = PageRequest::Order::Descending;
        desc.limit = 3;
        const auto newest = *s->listEvents(f, desc);
        QCOMPARE(newest.size(), 3);
        QVERIFY(newest[0].sequence > newest[1].sequence);
        QCOMPARE(newest[0].type, QStringLiteral("x"));
        // Filter values are bound, never spliced into SQL.
        f.type = QStringLiteral("x' OR '1'='1");
        QCOMPARE(s->countEvents(f).value(), 0);
        EventFilter err;
        err.errorContains = QStringLiteral("%");
        QCOMPARE(s->countEvents(err).value(), 0);
        QCOMPARE(s->countEvents({}).value(), 30);
    }
};

QTEST_GUILESS_MAIN(TestStorage)
#include "tst_storage.moc"
