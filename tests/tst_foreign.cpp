// SPDX-License-Identifier: MIT
// The outboxes of romancy and edda (their outbox_events table), opened as foreign outboxes: built here on each
// database from the frameworks' column list, read without a byte changing, repaired into states their
// relayers pick up, and shown literally whatever they hold.

#include "dialect.h"
#include "sendevent.h"
#include "storage.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlRecord>

using namespace outbox;
using testsupport::AppConnection;

namespace {

const QStringList kStatuses = {QStringLiteral("pending"), QStringLiteral("processing"), QStringLiteral("published"),
    QStringLiteral("failed"), QStringLiteral("invalid"), QStringLiteral("expired")};

QString utcText(const QDateTime &t)
{
    return t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

void exec(QSqlQuery &q, const QString &sql)
{
    if (!q.exec(sql))
        qFatal("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
}

} // namespace

class TestForeign : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    QDateTime m_now;
    QStringList m_ids; // the 18 status rows, in creation order (row i has status kStatuses[i % 6])
    const QByteArray m_hostileData =
        QByteArrayLiteral("{\"html\":\"<script>alert(1)</"
                          "script>\",\"ctl\":\"\\u0007\\u001b[31m\",\"big\":123456789012345678901234567890}");
    const QString m_hostileError = QStringLiteral("HTTP 502: <b>bad</b>\x1b[31m\nsecond line");

    // One row per status three times over, created an hour ago to 43 minutes ago, a binary row and a hostile
    // one; published rows carry published_at, failed ones an error.
    void buildRomancyOutbox(const ConnectionSpec &spec)
    {
        AppConnection app(spec);
        QSqlQuery q(app.db());
        testsupport::createRomancyTable(app.db(), spec.driver);
        exec(q, QStringLiteral("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT)"));
        exec(q, QStringLiteral("INSERT INTO schema_version VALUES (1, 'the framework''s own')"));
        m_now = QDateTime::currentDateTimeUtc();
        m_ids.clear();
        q.prepare(QStringLiteral("INSERT INTO outbox_events (event_id, event_type, event_source, event_data, "
                                 "created_at, published_at, status, retry_count, last_error) VALUES (?, ?, ?, ?, ?, "
                                 "?, ?, ?, ?)"));
        for (int i = 0; i < 18; ++i) {
            const QString status = kStatuses.at(i % 6);
            const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
            m_ids << id;
            const QDateTime created = m_now.addSecs(-60 * (60 - i));
            q.addBindValue(id);
            q.addBindValue(i % 2 ? QStringLiteral("order.created") : QStringLiteral("payment.failed"));
            q.addBindValue(QStringLiteral("/shop"));
            q.addBindValue(
                QStringLiteral("{\"i\": %1, \"big\": 12345678901234567890123, \"f\": 0.10000000000000000555}").arg(i));
            q.addBindValue(utcText(created));
            q.addBindValue(status == QLatin1String("published") ? QVariant(utcText(created.addSecs(5)))
                                                                : QVariant(QMetaType(QMetaType::QString)));
            q.addBindValue(status);
            q.addBindValue(i % 4);
            q.addBindValue(i % 6 >= 3 ? QVariant(QStringLiteral("HTTP 500 from /hook (%1)").arg(i))
                                      : QVariant(QMetaType(QMetaType::QString)));
            if (!q.exec())
                qFatal("insert: %s", qPrintable(q.lastError().text()));
        }
        QSqlQuery b(app.db());
        b.prepare(QStringLiteral("INSERT INTO outbox_events (event_id, event_type, event_source, data_type, "
                                 "event_data_binary, content_type, created_at) VALUES ('bin-1', 'blob.stored', '/b', "
                                 "'binary', ?, 'application/octet-stream', ?)"));
        QByteArray bytes;
        for (int i = 0; i < 256; ++i)
            bytes.append(char(i));
        b.addBindValue(bytes);
        b.addBindValue(utcText(m_now.addSecs(-30)));
        QVERIFY2(b.exec(), qPrintable(b.lastError().text()));
        QSqlQuery h(app.db());
        h.prepare(QStringLiteral("INSERT INTO outbox_events (event_id, event_type, event_source, event_data, status, "
                                 "last_error, created_at) VALUES ('hostile-1', ?, '/h', ?, 'failed', ?, ?)"));
        h.addBindValue(QStringLiteral("<i>type</i>\x01"));
        h.addBindValue(QString::fromUtf8(m_hostileData));
        h.addBindValue(m_hostileError);
        h.addBindValue(utcText(m_now.addSecs(-20)));
        QVERIFY2(h.exec(), qPrintable(h.lastError().text()));
    }

    // Everything the database holds, to show it did not change: the file's bytes and its companions (SQLite),
    // else every table's definition, indexes and rows.
    QByteArray snapshot(const ConnectionSpec &spec)
    {
        if (!testsupport::isServer()) {
            QFile f(spec.database);
            if (!f.open(QIODevice::ReadOnly))
                return "missing";
            const QFileInfo info(spec.database);
            return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex() + ' '
                + info.dir()
                      .entryList({info.fileName() + QLatin1Char('*')}, QDir::Files)
                      .join(QLatin1Char(' '))
                      .toUtf8();
        }
        AppConnection app(spec);
        QSqlQuery q(app.db());
        QByteArray out;
        QStringList tables;
        if (testsupport::isPostgres()) {
            exec(q,
                QStringLiteral("SELECT table_name, column_name, data_type, column_default, is_nullable FROM "
                               "information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"));
            while (q.next())
                out += q.value(0).toByteArray() + '.' + q.value(1).toByteArray() + ' ' + q.value(2).toByteArray() + ' '
                    + q.value(3).toByteArray() + ' ' + q.value(4).toByteArray() + '\n';
            exec(q, QStringLiteral("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"));
            while (q.next())
                out += q.value(0).toByteArray() + '\n';
            exec(q,
                QStringLiteral("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                               "ORDER BY 1"));
        } else {
            exec(q,
                QStringLiteral("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                               "ORDER BY 1"));
        }
        while (q.next())
            tables << q.value(0).toString();
        for (const QString &t : std::as_const(tables)) {
            if (testsupport::isMysql()) {
                exec(q, QStringLiteral("SHOW CREATE TABLE %1").arg(t));
                if (q.next())
                    out += q.value(1).toByteArray() + '\n';
            }
            exec(q, QStringLiteral("SELECT * FROM %1 ORDER BY 1").arg(t));
            while (q.next()) {
                out += t.toUtf8() + ':';
                for (int c = 0; c < q.record().count(); ++c)
                    out += ' ' + (q.value(c).isNull() ? QByteArray("NULL") : q.value(c).toByteArray().toHex());
                out += '\n';
            }
        }
        return QCryptographicHash::hash(out, QCryptographicHash::Sha256).toHex() + ' '
            + tables.join(QLatin1Char(',')).toUtf8();
    }

    std::unique_ptr<Storage> openForeign()
    {
        auto s = Storage::open(m_spec, Storage::OpenMode::AnyOutbox);
        if (!s.isOk())
            qFatal("cannot open the romancy outbox: %s", qPrintable(s.error().message()));
        return std::move(s.value());
    }

    struct Run
    {
        int exitCode = -1;
        QByteArray out, err;
    };
    Run outboxctl(const QStringList &args)
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("OUTBOX_DB"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(OUTBOXCTL_PATH), QStringList{"--db", m_spec.toUrl()} + args);
        if (!p.waitForStarted(5000) || !testsupport::finishOrShowStacks(p, 60000))
            qFatal("outboxctl did not run");
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
    }

    QVariant value(const QString &sql)
    {
        AppConnection app(m_spec);
        return app.scalar(sql);
    }
    // The framework's own pick-up (romancy: pending rows, oldest first; edda takes 'failed' ones too).
    QStringList frameworkWouldSend()
    {
        AppConnection app(m_spec);
        QSqlQuery q(app.db());
        exec(q, QStringLiteral("SELECT event_id FROM outbox_events WHERE status = 'pending' ORDER BY created_at"));
        QStringList ids;
        while (q.next())
            ids << q.value(0).toString();
        return ids;
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        buildRomancyOutbox(m_spec);
    }

    // Every statement of the format prepares on a real romancy table of this database.
    void everyStatementPrepares()
    {
        auto s = openForeign();
        const detail::Dialect *d = detail::Dialect::forDriver(m_spec.driver);
        QSqlQuery q(s->database());
        int prepared = 0;
        for (const QString &name : d->statementNames()) {
            if (!name.startsWith(QLatin1String("romancy-")))
                continue;
            QString sql = d->sql(name);
            const QHash<QString, QString> fill = {{"{{columns}}", "event_id, status"},
                {"{{where}}", " WHERE status = ?"}, {"{{order}}", " ORDER BY created_at"},
                {"{{oldest}}", "MIN(created_at)"}, {"{{clear-error}}", ", last_error = NULL"},
                {"{{and}}", " AND event_id = ?"}, {"{{copied}}", ", event_data"}, {"{{ids}}", "?, ?"},
                {"{{statuses}}", "'published'"}, {"{{age}}", "created_at"},
                {"{{time}}", d->sql(QStringLiteral("romancy-time")).trimmed()}, {"{{column}}", "event_data"},
                {"{{error}}", "last_error"}, {"{{first}}", "MIN(created_at)"}, {"{{last}}", "MAX(created_at)"}};
            for (auto it = fill.cbegin(); it != fill.cend(); ++it)
                sql.replace(it.key(), it.value());
            static const QRegularExpression dml(QStringLiteral("^(SELECT|INSERT|UPDATE|DELETE)\\b"));
            if (!dml.match(sql).hasMatch())
                continue; // a fragment
            QVERIFY2(q.prepare(sql), qPrintable(QStringLiteral("%1: %2 in: %3").arg(name, q.lastError().text(), sql)));
            q.finish();
            ++prepared;
        }
        QVERIFY(prepared >= 8);
    }

    // Reading, through the engine and through every outboxctl read command, leaves the database as it was;
    // relay, enqueue and init are refused with one line and change nothing either.
    void readingChangesNothing()
    {
        const QByteArray before = snapshot(m_spec);
        {
            auto s = openForeign();
            QCOMPARE(s->formatName(), QStringLiteral("romancy/edda outbox_events"));
            QVERIFY(!s->has(Storage::Capability::Relay));
            QVERIFY(s->has(Storage::Capability::ReleaseStuck));
            QVERIFY(s->listEvents({}, PageRequest{}).isOk());
            QVERIFY(s->stats().isOk());
            QList<qint64> seqs;
            QVERIFY(s->scanSequences({}, SortOrder{}, 7, [&](const QList<qint64> &c) {
                         seqs += c;
                         return true;
                     }).isOk());
            QCOMPARE(seqs.size(), 20);
            QCOMPARE(s->eventsBySequence(seqs, true)->size(), 20);
            QVERIFY(s->event(QStringLiteral("bin-1")).isOk());
        }
        for (const QStringList &args :
            {QStringList{"list"}, QStringList{"list", "--status", "failed", "--json"}, QStringList{"stats"},
                QStringList{"stats", "--json"}, QStringList{"show", "hostile-1"}, QStringList{"relayers"}}) {
            const Run r = outboxctl(args);
            QVERIFY2(r.exitCode == 0, qPrintable(args.join(' ') + ": " + r.err));
        }
        const Run relay = outboxctl({"relay", "--once", "--target", "http://127.0.0.1:9/"});
        QCOMPARE(relay.exitCode, 2);
        QVERIFY2(relay.err.contains("left to the framework's own relayer"), relay.err.constData());
        QCOMPARE(relay.err.trimmed().count('\n'), 0);
        for (const QStringList &args : {QStringList{"enqueue", "--type", "t", "--source", "/s"}, QStringList{"init"}}) {
            const Run r = outboxctl(args);
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains("romancy/edda outbox_events"), r.err.constData());
        }
        {
            // An application's enqueue on a connection to that database is refused before its migration writes.
            AppConnection app(m_spec);
            QSqlDatabase db = app.db();
            auto id = sendEventTransactional(db, QStringLiteral("t"), QStringLiteral("/s"), QJsonObject{{"n", 1}});
            QVERIFY(!id.isOk());
            QVERIFY2(id.error().message().contains(QStringLiteral("romancy/edda outbox_events")),
                qPrintable(id.error().message()));
        }
        QCOMPARE(snapshot(m_spec), before);
    }

    // What the console and outboxctl show is what the table holds, byte for byte.
    void rowsAreShownExactly()
    {
        auto s = openForeign();
        auto bin = s->event(QStringLiteral("bin-1"));
        QVERIFY(bin.isOk());
        QCOMPARE(bin->data.size(), 256);
        for (int i = 0; i < 256; ++i)
            QCOMPARE(quint8(bin->data.at(i)), quint8(i));
        QCOMPARE(bin->contentType, QStringLiteral("application/octet-stream"));
        QCOMPARE(bin->status, EventStatus::Pending);

        auto hostile = s->event(QStringLiteral("hostile-1"));
        QVERIFY(hostile.isOk());
        QCOMPARE(hostile->data, m_hostileData); // the big number kept as written, not as a double
        QCOMPARE(hostile->type, QStringLiteral("<i>type</i>\x01"));
        QCOMPARE(hostile->lastError, m_hostileError);
        QCOMPARE(hostile->status, EventStatus::Failed);
        QCOMPARE(hostile->formatStatus, QStringLiteral("failed"));

        auto json = s->event(m_ids.at(1));
        QVERIFY(json.isOk());
        QCOMPARE(json->data, QByteArray("{\"i\": 1, \"big\": 12345678901234567890123, \"f\": 0.10000000000000000555}"));
        QCOMPARE(json->formatStatus, QStringLiteral("processing"));
        QVERIFY(json->isInFlight(QDateTime::currentDateTimeUtc()) || !json->leaseOwner.isEmpty());
        QVERIFY(qAbs(json->createdAt.secsTo(m_now.addSecs(-60 * 59))) <= 1);
        auto published = s->event(m_ids.at(2));
        QCOMPARE(published->status, EventStatus::Sent);
        QVERIFY(qAbs(published->sentAt.secsTo(m_now.addSecs(-60 * 58 + 5))) <= 1);

        auto st = s->stats();
        QVERIFY(st.isOk());
        QCOMPARE(st->pending, 3 + 3 + 1); // pending, processing, the binary row
        QCOMPARE(st->processing, 3);
        QCOMPARE(st->failed, 3 * 3 + 1);
        QCOMPARE(st->sent, 3);
        QVERIFY(qAbs(st->oldestProcessingCreatedAt.secsTo(m_now.addSecs(-60 * 59))) <= 1);
        QVERIFY(qAbs(st->oldestPendingCreatedAt.secsTo(m_now.addSecs(-60 * 60))) <= 1);
        QCOMPARE(st->byFormatStatus.size(), 6);
        QCOMPARE(st->byFormatStatus.at(0), qMakePair(QStringLiteral("pending"), qint64(4)));
        QCOMPARE(st->byFormatStatus.at(3), qMakePair(QStringLiteral("failed"), qint64(4)));
        QCOMPARE(st->byFormatStatus.at(5), qMakePair(QStringLiteral("expired"), qint64(3)));

        const Run show = outboxctl({"show", "hostile-1", "--json"});
        QCOMPARE(show.exitCode, 0);
        const QJsonObject o = QJsonDocument::fromJson(show.out).object();
        QCOMPARE(o.value("format_status").toString(), QStringLiteral("failed"));
        QCOMPARE(o.value("last_error").toString(), m_hostileError);
    }

    // Filters, sorting and payload search, all in the database.
    // The failed, invalid and expired rows grouped by type and cause in the database, as the row-by-row
    // grouping finds them; a group's members are its rows; nothing is changed by asking.
    void failureGroupsOfAForeignOutbox()
    {
        const QByteArray before = snapshot(m_spec);
        auto s = openForeign();
        auto groups = s->failureGroups({});
        QVERIFY2(groups.isOk(), qPrintable(groups.error().message()));
        auto rowByRow = s->Storage::failureGroups({});
        QVERIFY2(rowByRow.isOk(), qPrintable(rowByRow.error().message()));
        QCOMPARE(groups->size(), rowByRow->size());
        qint64 total = 0;
        for (int i = 0; i < groups->size(); ++i) {
            QCOMPARE(groups->at(i).type, rowByRow->at(i).type);
            QCOMPARE(groups->at(i).cause, rowByRow->at(i).cause);
            QCOMPARE(groups->at(i).count, rowByRow->at(i).count);
            QCOMPARE(groups->at(i).httpStatus, 0);
            QCOMPARE(groups->at(i).firstSeen, rowByRow->at(i).firstSeen);
            QVERIFY(groups->at(i).firstSeen.isValid());
            total += groups->at(i).count;
        }
        EventFilter failed;
        failed.status = EventStatus::Failed;
        QCOMPARE(total, *s->countEvents(failed));
        auto members = s->failureGroupSequences(groups->first(), {});
        QVERIFY(members.isOk());
        QCOMPARE(members->size(), groups->first().count);
        s.reset();
        QCOMPARE(snapshot(m_spec), before);
    }

    void filtersSortAndSearch()
    {
        auto s = openForeign();
        EventFilter failed;
        failed.status = EventStatus::Failed;
        QCOMPARE(*s->countEvents(failed), 10);
        EventFilter type;
        type.type = QStringLiteral("order.created");
        QCOMPARE(*s->countEvents(type), 9);
        EventFilter search;
        search.payloadContains = "alert(1)";
        auto found = s->listEvents(search, PageRequest{});
        QCOMPARE(found->size(), 1);
        QCOMPARE(found->first().id, QStringLiteral("hostile-1"));
        EventFilter error;
        error.errorContains = QStringLiteral("(15)");
        QCOMPARE(*s->countEvents(error), 1);
        EventFilter recent;
        recent.createdFrom = m_now.addSecs(-60 * 45);
        QCOMPARE(*s->countEvents(recent), 3 + 2); // rows 15..17, the binary and the hostile one
        EventFilter byId;
        byId.id = m_ids.at(7);
        QCOMPARE(s->listEvents(byId, PageRequest{})->first().id, m_ids.at(7));
        EventFilter processing;
        processing.formatStatus = QStringLiteral("processing");
        QCOMPARE(*s->countEvents(processing), 3);
        processing.createdTo = m_now.addSecs(-60 * 50);
        QCOMPARE(*s->countEvents(processing), 2); // what a release of rows older than 50 minutes would take
        EventFilter key;
        key.orderingKey = QStringLiteral("k");
        QCOMPARE(*s->countEvents(key), 0); // the format has no ordering keys

        // Sorted by attempts, descending: the sequences map back to rows in that order.
        QList<qint64> seqs;
        QVERIFY(s->scanSequences({}, SortOrder{SortColumn::Attempts, true}, 5, [&](const QList<qint64> &c) {
                     seqs += c;
                     return true;
                 }).isOk());
        QCOMPARE(seqs.size(), 20);
        auto rows = s->eventsBySequence(seqs, false);
        QHash<qint64, int> attemptsOf;
        for (const OutboxEvent &e : *rows)
            attemptsOf.insert(e.sequence, e.attempts);
        for (int i = 1; i < seqs.size(); ++i)
            QVERIFY(attemptsOf.value(seqs.at(i - 1)) >= attemptsOf.value(seqs.at(i)));
        // Oldest first: the first 18 are the status rows in creation order.
        PageRequest oldest;
        oldest.limit = 18;
        auto first = s->listEvents({}, oldest);
        QStringList ids;
        for (const OutboxEvent &e : *first)
            ids << e.id;
        QCOMPARE(ids, m_ids);
    }

    // Each repair leaves rows in the states the frameworks' relayers pick up, and only the rows it names.
    void repairsLeaveRowsTheFrameworkSends()
    {
        auto s = openForeign();
        // Retry: failed, invalid, expired back to pending with the count reset and the error cleared; a
        // published row is skipped.
        auto retried = s->retry({m_ids.at(3), m_ids.at(4), m_ids.at(5), m_ids.at(2)});
        QVERIFY(retried.isOk());
        QCOMPARE(retried->changed, 3);
        QCOMPARE(retried->skipped, 1);
        for (int i : {3, 4, 5}) {
            const OutboxEvent e = *s->event(m_ids.at(i));
            QCOMPARE(e.formatStatus, QStringLiteral("pending"));
            QCOMPARE(e.attempts, 0);
            QVERIFY(e.lastError.isEmpty());
            QVERIFY(value(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE event_id = '%1' AND last_error "
                                         "IS NULL AND retry_count = 0")
                              .arg(m_ids.at(i)))
                        .toInt()
                == 1);
            QVERIFY(frameworkWouldSend().contains(m_ids.at(i)));
        }
        QCOMPARE(s->event(m_ids.at(2))->formatStatus, QStringLiteral("published"));
        EventFilter expired;
        expired.status = EventStatus::Failed;
        expired.type = QStringLiteral("payment.failed");
        QCOMPARE(s->retryMatching(expired)->changed, 2); // rows 10 (invalid) and 16 (invalid), of that type
        QCOMPARE(*s->countEvents(expired), 0);

        // Release: 'processing' rows created more than 50 minutes ago (rows 1 and 7); row 13 stays.
        auto released = s->releaseStuck(m_now.addSecs(-60 * 50));
        QVERIFY(released.isOk());
        QCOMPARE(*released, 2);
        QVERIFY(frameworkWouldSend().contains(m_ids.at(1)));
        QVERIFY(frameworkWouldSend().contains(m_ids.at(7)));
        QCOMPARE(s->event(m_ids.at(13))->formatStatus, QStringLiteral("processing"));

        // Replay: a new pending row with a new id and the same data; the original stays published. A pending
        // row is not replayed.
        auto replayed = s->replay({m_ids.at(8), m_ids.at(0)});
        QVERIFY(replayed.isOk());
        QCOMPARE(replayed->changed, 1);
        QCOMPARE(replayed->skipped, 1);
        const OutboxEvent copy = *s->event(replayed->newIds.first());
        const OutboxEvent original = *s->event(m_ids.at(8));
        QCOMPARE(copy.formatStatus, QStringLiteral("pending"));
        QCOMPARE(copy.data, original.data);
        QCOMPARE(copy.type, original.type);
        QCOMPARE(copy.source, original.source);
        QCOMPARE(copy.attempts, 0);
        QVERIFY(qAbs(copy.createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 5);
        QCOMPARE(original.formatStatus, QStringLiteral("published"));
        QVERIFY(frameworkWouldSend().contains(copy.id));
        auto binCopy = s->replay({QStringLiteral("bin-1")});
        QCOMPARE(binCopy->changed, 0); // still pending
        QVERIFY(s->releaseStuck(QDateTime::currentDateTimeUtc()).isOk());

        // Delete: a row being sent ('processing') is skipped.
        QCOMPARE(value(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'processing'")).toInt(), 0);
        QSqlQuery(AppConnection(m_spec).db())
            .exec(QStringLiteral("UPDATE outbox_events SET status = 'processing' WHERE event_id = '%1'")
                      .arg(m_ids.at(13)));
        auto removed = s->remove({m_ids.at(13), QStringLiteral("hostile-1"), QStringLiteral("no-such")});
        QCOMPARE(removed->changed, 1);
        QCOMPARE(removed->skipped, 2);
        QVERIFY(!s->event(QStringLiteral("hostile-1")).isOk());

        // Cleanup: published rows older than ten minutes go; the fresh replayed copy (pending) stays.
        auto cleaned = s->cleanup(QDateTime::currentDateTimeUtc().addSecs(-600), {EventStatus::Sent}, 2);
        QVERIFY(cleaned.isOk());
        QCOMPARE(*cleaned, 3);
        QCOMPARE(value(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'published'")).toInt(), 0);
        QVERIFY(s->event(copy.id).isOk());
    }

    // outboxctl's repair commands on the table, as an operator would run them.
    void outboxctlRepairs()
    {
        const Run retry = outboxctl({"retry", "--all-failed"});
        QCOMPARE(retry.exitCode, 0);
        QVERIFY2(retry.out.contains("retried 10"), retry.out.constData());
        const Run release = outboxctl({"release", "--older-than", "50m"});
        QCOMPARE(release.exitCode, 0);
        QVERIFY2(release.out.contains("released 2"), release.out.constData());
        const Run stats = outboxctl({"stats", "--json"});
        const QJsonObject o = QJsonDocument::fromJson(stats.out).object();
        QCOMPARE(o.value("format").toString(), QStringLiteral("romancy/edda outbox_events"));
        QCOMPARE(o.value("by_status").toObject().value("pending").toInt(), 4 + 10 + 2);
        QCOMPARE(o.value("processing").toInt(), 1);
        QCOMPARE(frameworkWouldSend().size(), 16);
        // Paging by sequence works where the table has a rowid (SQLite); elsewhere it is refused with the way out.
        const Run after = outboxctl({"list", "--after", "5"});
        if (testsupport::isServer()) {
            QCOMPARE(after.exitCode, 1);
            QVERIFY2(after.err.contains("filter by creation time instead"), after.err.constData());
        } else {
            QCOMPARE(after.exitCode, 0);
            QCOMPARE(after.out.trimmed().count('\n'), 20 - 5); // a header line and rows 6..20
        }
    }

    // A 20 MB payload is listed without being read, and read whole when asked for.
    void twentyMegabytePayload()
    {
        const QByteArray big = "{\"blob\":\"" + QByteArray(20 * 1024 * 1024, 'x') + "\"}";
        {
            AppConnection app(m_spec);
            QSqlQuery q(app.db());
            q.prepare(QStringLiteral("INSERT INTO outbox_events (event_id, event_type, event_source, event_data) "
                                     "VALUES ('big-1', 't', '/s', ?)"));
            q.addBindValue(QString::fromLatin1(big));
            QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
        }
        auto s = openForeign();
        PageRequest page;
        page.includeData = false;
        page.limit = 100;
        QElapsedTimer t;
        t.start();
        auto list = s->listEvents({}, page);
        QVERIFY(list.isOk());
        QCOMPARE(list->size(), 21);
        qInfo("listed 21 rows beside a 20 MB payload in %lld ms", qint64(t.elapsed()));
        auto e = s->event(QStringLiteral("big-1"));
        QVERIFY(e.isOk());
        QCOMPARE(e->data.size(), big.size());
        QCOMPARE(e->data, big);
    }

    // Another table called outbox_events is refused with the columns found, and nothing is written.
    void otherLayoutIsRefusedWithItsColumns()
    {
        const ConnectionSpec other = testsupport::freshOutbox(m_dir);
        {
            AppConnection app(other);
            QSqlQuery q(app.db());
            exec(q,
                QStringLiteral("CREATE TABLE outbox_events (event_id VARCHAR(64) PRIMARY KEY, payload TEXT, "
                               "state VARCHAR(16))"));
        }
        const QByteArray before = snapshot(other);
        auto s = Storage::open(other, Storage::OpenMode::AnyOutbox);
        QVERIFY(!s.isOk());
        QVERIFY2(s.error().message().contains(QStringLiteral("columns: event_id, payload, state")),
            qPrintable(s.error().message()));
        QCOMPARE(snapshot(other), before);
    }
};

QTEST_GUILESS_MAIN(TestForeign)
#include "tst_foreign.moc"
