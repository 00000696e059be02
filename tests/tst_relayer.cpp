// SPDX-License-Identifier: MIT
// The relayer against a real HTTP receiver on loopback: every outcome class, the wire formats, leases,
// wake-up on commit, stop. The receiver is the engine's own, on its own thread; it misbehaves on request.

#include "cloudevents.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include "receiver.h"
#include "relayer.h"
#include "relayersettings.h"
#include "sendevent.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QSslKey>
#include <QSslServer>
#include <QStandardPaths>
#include <QScopeGuard>
#include <QSqlQuery>

using namespace outbox;
using outbox::detail::DeliveryRecord;
using testsupport::AppConnection;
using testsupport::relay;

class TestRelayer : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_path;
    std::unique_ptr<AppConnection> m_app;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Receiver> m_receiver;

    RelayerConfig config() const
    {
        RelayerConfig c;
        c.targetUrl = m_receiver->url();
        c.pollIntervalMs = 50;
        c.maxIdleBackoffMs = 200;
        c.retryBackoffMs = 50;
        c.requestTimeoutMs = 3000;
        return c;
    }

    QString enqueue(const QString &type = QStringLiteral("com.example.test"), const QByteArray &data = "{\"n\":1}",
        const SendEventOptions &options = {})
    {
        QSqlDatabase db = m_app->db();
        auto id = sendEventTransactional(db, type, QStringLiteral("/tests"), data, options);
        if (!id.isOk())
            qFatal("enqueue failed: %s", qPrintable(id.error().message()));
        return *id;
    }

    OutboxEvent row(const QString &id) const { return *m_storage->event(id); }

    // The event's payload made invalid JSON after the enqueue checked it (the receiver will refuse it with 400).
    // On SQLite the payload row goes (schema version 9): the row's own data column is read, as for a row another
    // program wrote straight into outbox_events.
    void corruptPayload(const QString &id)
    {
        QSqlQuery q(m_app->db());
        QVERIFY(q.exec(QStringLiteral("UPDATE outbox_events SET data = '{broken' WHERE id = '%1'").arg(id)));
        if (m_app->db().driverName() == QLatin1String("QSQLITE"))
            QVERIFY(q.exec(QStringLiteral(
                "DELETE FROM outbox_payloads WHERE seq = (SELECT seq FROM outbox_events WHERE id = '%1')")
                               .arg(id)));
    }

private Q_SLOTS:
    void init()
    {
        m_path = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_path);
        m_app = std::make_unique<AppConnection>(m_path);
        m_receiver = std::make_unique<Receiver>();
        QVERIFY(!m_receiver->listen().isError());
    }

    void cleanup()
    {
        m_receiver.reset();
        m_app.reset();
        m_storage.reset();
    }

    // Issue 26: one pattern language for route types on every database: '*' is the only wildcard, everything
    // else (a '[', a '?', a '%', a '_') stands for itself. The same routes send the same events to the same
    // targets on SQLite, PostgreSQL and MariaDB.
    void routePatternsMeanTheSameOnEveryDatabase()
    {
        Receiver literal;
        QVERIFY(!literal.listen().isError());
        RelayerConfig c = config();
        c.routes = {RelayRoute{QStringLiteral("literal"),
                        {QStringLiteral("com.[ab].z"), QStringLiteral("com.?.y"), QStringLiteral("pct.%"),
                            QStringLiteral("under_score"), QStringLiteral("star.*.end")},
                        literal.url(), ContentMode::Binary, 2, {}, {}},
            RelayRoute{
                QStringLiteral("rest"), {QStringLiteral("*")}, m_receiver->url(), ContentMode::Binary, 2, {}, {}}};
        const QStringList toLiteral{QStringLiteral("com.[ab].z"), QStringLiteral("com.?.y"), QStringLiteral("pct.%"),
            QStringLiteral("under_score"), QStringLiteral("star.x.end"), QStringLiteral("star..end")};
        const QStringList toRest{QStringLiteral("com.a.z"), QStringLiteral("com.b.z"), QStringLiteral("com.x.y"),
            QStringLiteral("pct.x"), QStringLiteral("underXscore"), QStringLiteral("STAR.x.end")};
        for (const QString &type : toLiteral + toRest)
            enqueue(type);
        {
            Relayer relayer(m_path, c);
            QVERIFY(!relayer.start());
            QTRY_COMPARE_WITH_TIMEOUT(literal.eventCount() + m_receiver->eventCount(), 12, 15000);
        }
        QStringList gotLiteral, gotRest;
        for (const ReceivedEvent &e : literal.events())
            gotLiteral << e.event.type;
        for (const ReceivedEvent &e : m_receiver->events())
            gotRest << e.event.type;
        gotLiteral.sort();
        gotRest.sort();
        QStringList wantLiteral = toLiteral, wantRest = toRest;
        wantLiteral.sort();
        wantRest.sort();
        QCOMPARE(gotLiteral, wantLiteral);
        QCOMPARE(gotRest, wantRest);
    }

    // https: certificates are verified by default, a bad one gives a clear error and the event waits for its
    // retry; with the CA in --ca-file / caCertificatesFile it is delivered.
    void httpsVerifiesCertificatesAndTakesACustomCa()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
            QSKIP("openssl is not installed");
        QTemporaryDir tls;
        QVERIFY(testsupport::makeTestCertificates(tls.path()));

        // A minimal HTTPS endpoint: answers 200 to each request it reads.
        QSslServer server;
        server.setSslConfiguration(testsupport::testServerTls(tls.path()));
        int answered = 0;
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (QTcpSocket *socket = server.nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                connect(socket, &QTcpSocket::readyRead, socket, [socket, buffer, &answered] {
                    buffer->append(socket->readAll());
                    const qsizetype head = buffer->indexOf("\r\n\r\n");
                    if (head < 0)
                        return;
                    const qsizetype at = buffer->toLower().indexOf("content-length:");
                    const qsizetype length =
                        at < 0 ? 0 : buffer->mid(at + 15, buffer->indexOf("\r\n", at) - at - 15).trimmed().toLongLong();
                    if (buffer->size() < head + 4 + length)
                        return;
                    buffer->remove(0, head + 4 + length);
                    ++answered;
                    socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                });
            }
        });
        QVERIFY(server.listen(QHostAddress::LocalHost));
        RelayerConfig c = config();
        c.targetUrl = QUrl(QStringLiteral("https://127.0.0.1:%1/events").arg(server.serverPort()));
        const QString id = enqueue();
        // The server lives on this thread: relay without blocking it.
        auto relayOnce = [&](const RelayerConfig &config) {
            Relayer relayer(m_path, config);
            int processed = -1;
            relayer.relayOnceAsync([&](const RelayOnceResult &r) { processed = r.processed; });
            QTRY_VERIFY_WITH_TIMEOUT(processed >= 0, 15000);
            QCOMPARE(processed, 1);
        };
        relayOnce(c);
        const OutboxEvent failed = row(id);
        QCOMPARE(failed.status, EventStatus::Pending);
        QCOMPARE(failed.attempts, 0); // a TLS handshake that fails says the target is unavailable: not charged
        QVERIFY2(failed.lastError.startsWith(QStringLiteral("TLS certificate of 127.0.0.1 not accepted: ")),
            qPrintable(failed.lastError));
        QCOMPARE(answered, 0);
        qInfo("untrusted certificate: %s", qPrintable(failed.lastError));

        c.caCertificatesFile = tls.filePath(QStringLiteral("nothing-here.pem"));
        QVERIFY(c.problem().contains(QStringLiteral("no PEM certificate could be read")));
        c.caCertificatesFile = tls.filePath(QStringLiteral("ca.pem"));
        QVERIFY(c.problem().isEmpty());
        QSqlQuery(m_app->db()).exec(QStringLiteral("UPDATE outbox_events SET next_attempt_at = created_at"));
        relayOnce(c);
        QCOMPARE(row(id).status, EventStatus::Sent);
        QCOMPARE(answered, 1);
    }

    void deliversInBinaryModeWithEveryAttribute()
    {
        SendEventOptions o;
        o.subject = QStringLiteral("orders/42");
        o.orderingKey = QStringLiteral("customer-1");
        o.extensions.insert(
            QStringLiteral("traceparent"), QStringLiteral("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        const QByteArray data = R"({"order":42,"id":1234567890123456789})";
        const QString id = enqueue(QStringLiteral("com.example.order.created"), data, o);
        Relayer relayer(m_app->db(), config());
        QSignalSpy sent(&relayer, &Relayer::eventSent);
        const RelayOnceResult r = relayer.relayOnce();
        QVERIFY(!r.error);
        QCOMPARE(r.processed, 1);

        const QList<ReceivedRequest> requests = m_receiver->requests();
        QCOMPARE(requests.size(), 1);
        const HttpMessage &m = requests.first().message;
        QCOMPARE(requests.first().method, QByteArray("POST"));
        QCOMPARE(m.header("ce-specversion"), QByteArray("1.0"));
        QCOMPARE(m.header("ce-id"), id.toLatin1());
        QCOMPARE(m.header("ce-type"), QByteArray("com.example.order.created"));
        QCOMPARE(m.header("ce-source"), QByteArray("/tests"));
        QCOMPARE(m.header("ce-subject"), QByteArray("orders/42"));
        QCOMPARE(m.header("ce-traceparent"), QByteArray("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        QCOMPARE(m.header("content-type"), QByteArray("application/json"));
        const OutboxEvent stored = row(id);
        QCOMPARE(m.header("ce-time"), cloudevents::formatTime(stored.createdAt).toLatin1());
        QVERIFY(QRegularExpression(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)")
                    .match(QString::fromLatin1(m.header("ce-time")))
                    .hasMatch());
        QCOMPARE(m.body, data);
        QVERIFY(requests.first().decoded.events.first().isValid());

        QCOMPARE(stored.status, EventStatus::Sent);
        QCOMPARE(stored.attempts, 1);
        QCOMPARE(stored.lastHttpStatus, 200);
        QVERIFY(stored.sentAt.isValid());
        QVERIFY(stored.leaseOwner.isEmpty());
        const auto history = *m_storage->attempts(id);
        QCOMPARE(history.size(), 1);
        QCOMPARE(history.first().outcome, Attempt::Outcome::Sent);
        QCOMPARE(history.first().httpStatus, 200);
        QCOMPARE(history.first().relayer, relayer.owner());
        QTRY_COMPARE(sent.size(), 1);
        QCOMPARE(sent.first().first().toString(), id);
    }

    void structuredModeBodyIsTheEventByteForByte()
    {
        const QString id = enqueue(QStringLiteral("t"), R"({"b":2,"a":12345678901234567890})");
        RelayerConfig c = config();
        c.contentMode = ContentMode::Structured;
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 1);
        const ReceivedRequest req = m_receiver->requests().first();
        QCOMPARE(req.message.header("content-type"), QByteArray("application/cloudevents+json; charset=utf-8"));
        const OutboxEvent e = row(id);
        const QByteArray expected = "{\"specversion\":\"1.0\",\"id\":\"" + id.toLatin1()
            + "\",\"source\":\"/tests\",\"type\":\"t\",\"time\":\"" + cloudevents::formatTime(e.createdAt).toLatin1()
            + "\",\"datacontenttype\":\"application/json\",\"data\":{\"b\":2,\"a\":12345678901234567890}}";
        QCOMPARE(req.message.body, expected);
        QCOMPARE(req.decoded.events.first().event.data, QByteArray(R"({"b":2,"a":12345678901234567890})"));
        QCOMPARE(e.status, EventStatus::Sent);
    }

    void nonJsonPayloadsArriveUnchanged()
    {
        const QByteArray csv = "id,amount\n1,12345678901234567890\n";
        const QByteArray binary("\x00\x01\xfe\xff\x80 raw", 9);
        const QString csvId = enqueue(QStringLiteral("t"), csv, withContentType(QStringLiteral("text/csv")));
        const QString binId =
            enqueue(QStringLiteral("t"), binary, withContentType(QStringLiteral("application/octet-stream")));
        for (ContentMode mode : {ContentMode::Binary, ContentMode::Structured}) {
            m_receiver->clear();
            // Send the same two rows again in the next mode.
            QVERIFY(QSqlQuery(m_app->db())
                        .exec("UPDATE outbox_events SET status = 'pending', next_attempt_at = created_at"));
            RelayerConfig c = config();
            c.contentMode = mode;
            Relayer relayer(m_app->db(), c);
            QCOMPARE(relayer.relayOnce().processed, 2);
            QHash<QString, ReceivedEvent> got;
            for (const ReceivedEvent &e : m_receiver->events())
                got.insert(e.event.id, e);
            QCOMPARE(got.value(csvId).event.data, csv);
            QCOMPARE(got.value(binId).event.data, binary);
            QCOMPARE(got.value(csvId).event.contentType.section(';', 0, 0), QStringLiteral("text/csv"));
        }
    }

    void batchedModeSendsManyEventsPerRequest()
    {
        QStringList ids;
        for (int i = 0; i < 250; ++i)
            ids << enqueue(QStringLiteral("t"), QByteArray("{\"i\":") + QByteArray::number(i) + "}");
        RelayerConfig c = config();
        c.contentMode = ContentMode::Batch;
        Relayer relayer(m_app->db(), c);
        int total = 0;
        for (int n; (n = relayer.relayOnce().processed) > 0;)
            total += n;
        QCOMPARE(total, 250);
        const QList<ReceivedRequest> requests = m_receiver->requests();
        QCOMPARE(requests.size(), 3);
        QCOMPARE(requests.at(0).decoded.mode, ContentMode::Batch);
        QCOMPARE(requests.at(0).decoded.events.size(), 100);
        QCOMPARE(requests.at(2).decoded.events.size(), 50);
        const QList<ReceivedEvent> events = m_receiver->events();
        for (int i = 0; i < 250; ++i) {
            QCOMPARE(events.at(i).event.id, ids.at(i));
            QCOMPARE(events.at(i).event.data, QByteArray("{\"i\":") + QByteArray::number(i) + "}");
        }
        QCOMPARE(m_storage->stats()->sent, 250);
    }

    void serverErrorIsRetriedWithBackoffThenSent()
    {
        const QString id = enqueue();
        ReceiverFaults f;
        f.status = 500;
        m_receiver->setFaults(f);
        RelayerConfig c = config();
        c.retryBackoffMs = 400;
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 1);
        OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QCOMPARE(e.attempts, 1);
        QCOMPARE(e.lastHttpStatus, 500);
        QCOMPARE(e.lastError, QStringLiteral("HTTP 500 Internal Server Error: simulated failure (status 500)"));
        const qint64 wait = QDateTime::currentDateTimeUtc().msecsTo(e.nextAttemptAt);
        QVERIFY2(wait > 150 && wait <= 400, qPrintable(QString::number(wait))); // jittered within [200, 400] ms
        QCOMPARE(relayer.relayOnce().processed, 0); // not due yet

        m_receiver->setFaults({});
        QTest::qWait(int(wait) + 50);
        QCOMPARE(relayer.relayOnce().processed, 1);
        e = row(id);
        QCOMPARE(e.status, EventStatus::Sent);
        QCOMPARE(e.attempts, 2);
        const auto history = *m_storage->attempts(id);
        QCOMPARE(history.size(), 2);
        QCOMPARE(history.at(0).outcome, Attempt::Outcome::Retry);
        QCOMPARE(history.at(0).httpStatus, 500);
        QCOMPARE(history.at(1).outcome, Attempt::Outcome::Sent);
    }

    // A long outage: events back off (doubling, capped) instead of burning their retries, and all arrive once
    // the receiver recovers. A poison event (the receiver answers 400 for good) fails alone: it holds back only
    // the later events of its own ordering key.
    void outageThenRecoveryAndAPoisonEvent()
    {
        ReceiverFaults outage;
        outage.status = 503;
        m_receiver->setFaults(outage);
        QStringList good;
        for (int i = 0; i < 10; ++i)
            good << enqueue();
        SendEventOptions keyed;
        keyed.orderingKey = QStringLiteral("k");
        const QString poison = enqueue(QStringLiteral("com.example.test"), "{\"n\":1}", keyed);
        const QString behindPoison = enqueue(QStringLiteral("com.example.test"), "{\"n\":2}", keyed);
        keyed.orderingKey = QStringLiteral("other");
        const QString otherKey = enqueue(QStringLiteral("com.example.test"), "{\"n\":3}", keyed);
        // Corrupted after the enqueue checked it: the receiver will refuse it with 400.
        corruptPayload(poison);

        RelayerConfig c = config();
        c.retryBackoffMs = 300;
        c.maxRetryBackoffMs = 1500;
        c.maxRetries = 8;
        Relayer relayer(m_path, c);
        QVERIFY(!relayer.start());
        QTest::qWait(2500);
        int tried = 0;
        for (const QString &id : good) {
            const OutboxEvent e = row(id);
            QCOMPARE(e.status, EventStatus::Pending);
            QVERIFY2(e.attempts == 0, qPrintable(e.lastError)); // 503 from every request: held, not charged
            if (e.lastHttpStatus == 0)
                continue; // given back unsent when the first 503s came
            ++tried;
            QCOMPARE(e.lastHttpStatus, 503);
            QVERIFY2(
                e.lastError.endsWith(QStringLiteral("(target unavailable: not counted)")), qPrintable(e.lastError));
        }
        QVERIFY(tried >= 1);
        // Requests for this test's 13 events in 2.5 s (the port may have been another test process's a moment
        // ago, whose relayer can still knock: its requests are not counted).
        QSet<QString> ours(good.begin(), good.end());
        ours << poison << behindPoison << otherKey;
        int requests = 0;
        for (const ReceivedRequest &r : m_receiver->requests()) {
            requests += std::any_of(r.decoded.events.begin(), r.decoded.events.end(),
                            [&](const ReceivedEvent &e) { return ours.contains(e.event.id); })
                ? 1
                : 0;
        }
        QVERIFY2(requests < 20,
            qPrintable(QStringLiteral("held, not retried at the backoff's pace: %1 requests of %2")
                           .arg(requests)
                           .arg(m_receiver->requestCount())));
        m_receiver->setFaults({});
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(good.begin(), good.end(),
                                     [&](const QString &id) { return row(id).status == EventStatus::Sent; }),
            10000);
        QTRY_COMPARE_WITH_TIMEOUT(row(otherKey).status, EventStatus::Sent, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(row(poison).status, EventStatus::Failed, 5000);
        QCOMPARE(row(poison).lastHttpStatus, 400);
        QVERIFY2(row(poison).lastError.contains(QStringLiteral("not valid JSON")), qPrintable(row(poison).lastError));
        QTest::qWait(500);
        QCOMPARE(row(behindPoison).status, EventStatus::Pending);
        QCOMPARE(row(behindPoison).attempts, 0);
        QCOMPARE(m_storage->stats()->blockedKeys, QStringList{QStringLiteral("k")});
        relayer.stop();
    }

    // Issue 26: a receiver that is down for longer than the whole retry schedule fails no event. The relayer
    // holds the target's events (attempts not counted), probes it with one event at a growing interval, says
    // so in the register (stats, relayers, the console), and delivers everything within seconds of its
    // return; a poison event in the same run still fails alone.
    void receiverOutageLongerThanTheRetryScheduleFailsNothing()
    {
        const quint16 port = m_receiver->port();
        const QUrl target = m_receiver->url();
        m_receiver->close(); // connection refused from now on
        QStringList good;
        for (int i = 0; i < 30; ++i)
            good << enqueue();
        const QString poison = enqueue();
        corruptPayload(poison);
        RelayerConfig c = config();
        c.retryBackoffMs = 100;
        c.maxRetryBackoffMs = 400;
        c.maxRetries = 3; // the schedule is spent in well under a second
        c.targetUrl = target;
        Relayer relayer(m_path, c);
        QList<TargetState> states;
        connect(&relayer, &Relayer::targetStateChanged, this,
            [&states](const QString &, const TargetState &s) { states << s; });
        QVERIFY(!relayer.start());
        QTest::qWait(4000); // four times the schedule
        for (const QString &id : good + QStringList{poison}) {
            const OutboxEvent e = row(id);
            QCOMPARE(e.status, EventStatus::Pending);
            QCOMPARE(e.attempts, 0);
        }
        const OutboxEvent held = row(good.first());
        QVERIFY2(held.lastError.contains(QStringLiteral("not counted")), qPrintable(held.lastError));
        QVERIFY(!states.isEmpty() && !states.last().isAvailable());
        auto list = m_storage->relayers(false);
        QVERIFY(list.isOk() && !list->isEmpty());
        QVERIFY(!list->first().target.isAvailable());
        QVERIFY2(list->first().target.target.contains(QString::number(port)), qPrintable(list->first().target.target));
        QVERIFY(list->first().target.nextProbeAt > list->first().target.unavailableSince);

        QVERIFY(!m_receiver->listen(port).isError()); // back
        QElapsedTimer back;
        back.start();
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(good.begin(), good.end(),
                                     [&](const QString &id) { return row(id).status == EventStatus::Sent; }),
            15000);
        qInfo("all 30 delivered %lld ms after the receiver came back", back.elapsed());
        QVERIFY2(back.elapsed() < 6000, qPrintable(QString::number(back.elapsed())));
        QTRY_COMPARE_WITH_TIMEOUT(row(poison).status, EventStatus::Failed, 5000);
        QCOMPARE(row(poison).lastHttpStatus, 400);
        QCOMPARE(m_storage->stats()->failed, 1); // the poison alone
        for (const QString &id : good)
            QCOMPARE(row(id).attempts, 1); // the delivering one; the refused ones were not charged
        // (The signal is queued from the relay thread: it may arrive after the rows it announced are written.)
        QTRY_VERIFY(states.last().isAvailable());
        QTRY_VERIFY(m_storage->relayers(false)->first().target.isAvailable());
        relayer.stop();
    }

    void retryAfterIsHonoured()
    {
        const QString id = enqueue();
        ReceiverFaults f;
        f.status = 429;
        f.retryAfterSeconds = 3;
        m_receiver->setFaults(f);
        Relayer relayer(m_app->db(), config()); // its own backoff would be 50 ms
        QCOMPARE(relayer.relayOnce().processed, 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QCOMPARE(e.lastHttpStatus, 429);
        QCOMPARE(e.attempts, 0); // rate limiting is the target's state, not the event's
        const qint64 wait = QDateTime::currentDateTimeUtc().msecsTo(e.nextAttemptAt);
        QVERIFY2(wait > 2500 && wait <= 3000, qPrintable(QString::number(wait)));
        QCOMPARE(relayer.relayOnce().processed, 0);
    }

    void clientErrorFailsAtOnce()
    {
        const QString id = enqueue();
        const QString other = enqueue(QStringLiteral("other"));
        ReceiverFaults f;
        f.status = 404;
        m_receiver->setFaults(f);
        Relayer relayer(m_app->db(), config());
        QSignalSpy failed(&relayer, &Relayer::eventFailed);
        QCOMPARE(relayer.relayOnce().processed, 2);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Failed);
        QCOMPARE(e.attempts, 1);
        QCOMPARE(e.lastHttpStatus, 404);
        QCOMPARE(e.lastError, QStringLiteral("HTTP 404 Not Found: simulated failure (status 404)"));
        QCOMPARE(row(other).status, EventStatus::Failed);
        QTRY_COMPARE(failed.size(), 2);
        QCOMPARE(m_storage->attempts(id)->first().outcome, Attempt::Outcome::Failed);
    }

    void timeoutIsRecordedAsSuch()
    {
        const QString id = enqueue();
        ReceiverFaults f;
        f.hang = true;
        m_receiver->setFaults(f);
        RelayerConfig c = config();
        c.requestTimeoutMs = 300;
        Relayer relayer(m_app->db(), c);
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayer.relayOnce().processed, 1);
        QVERIFY(clock.elapsed() >= 290);
        QVERIFY(clock.elapsed() < 3000);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QCOMPARE(e.lastError, QStringLiteral("timed out after 300 ms"));
        QCOMPARE(e.lastHttpStatus, 0);
        QCOMPARE(m_storage->attempts(id)->first().outcome, Attempt::Outcome::Retry);
    }

    void droppedConnectionIsRetried()
    {
        const QString id = enqueue();
        ReceiverFaults f;
        f.dropConnection = true;
        m_receiver->setFaults(f);
        Relayer relayer(m_app->db(), config());
        QCOMPARE(relayer.relayOnce().processed, 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QVERIFY2(e.lastError.contains("closed", Qt::CaseInsensitive), qPrintable(e.lastError));
    }

    void refusedConnectionIsRetried()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        const quint16 port = closed.serverPort();
        closed.close();
        const QString id = enqueue();
        RelayerConfig c = config();
        c.targetUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port));
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QCOMPARE(e.lastError, QStringLiteral("Connection refused (target unavailable: not counted)"));
        QCOMPARE(e.attempts, 0);
        QCOMPARE(m_storage->attempts(id)->size(), 1); // in the history all the same
    }

    void maxRetriesEndsInFailed()
    {
        const QString id = enqueue();
        ReceiverFaults f;
        f.status = 500; // a 5xx that may be this event's fault: counted
        m_receiver->setFaults(f);
        RelayerConfig c = config();
        c.maxRetries = 3;
        c.retryBackoffMs = 0;
        Relayer relayer(m_app->db(), c);
        for (int i = 0; i < 3; ++i) {
            QTest::qWait(5);
            QCOMPARE(relayer.relayOnce().processed, 1);
        }
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Failed);
        QCOMPARE(e.attempts, 3);
        QCOMPARE(e.lastError,
            QStringLiteral(
                "HTTP 500 Internal Server Error: simulated failure (status 500) (gave up after 3 attempts)"));
        QCOMPARE(m_storage->attempts(id)->size(), 3);
        QCOMPARE(m_receiver->requestCount(), 3);
        QCOMPARE(relayer.relayOnce().processed, 0);
    }

    void invalidEventFailsWithoutARequest()
    {
        // A row written by other means whose JSON data is broken cannot be sent in structured mode; the good
        // event claimed in the same batch is sent on its own.
        const QString good = enqueue();
        QSqlQuery q(m_app->db());
        QVERIFY(q.exec(testsupport::isPostgres()
                ? "INSERT INTO outbox_events (id, type, source, content_type, data, status, next_attempt_at, "
                  "created_at)"
                  " VALUES ('broken', 't', '/s', 'application/json', convert_to('{oops', 'UTF8'), 'pending', now(), "
                  "now())"
                : testsupport::isMysql()
                ? "INSERT INTO outbox_events (id, type, source, content_type, data, status, next_attempt_at, "
                  "created_at) VALUES ('broken', 't', '/s', 'application/json', '{oops', 'pending', NOW(3), NOW(3))"
                : "INSERT INTO outbox_events (id, type, source, content_type, data, status, next_attempt_at, "
                  "created_at)"
                  " VALUES ('broken', 't', '/s', 'application/json', CAST('{oops' AS BLOB), 'pending', 0, 0)"));
        RelayerConfig c = config();
        c.contentMode = ContentMode::Structured;
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 2);
        const OutboxEvent e = row(QStringLiteral("broken"));
        QCOMPARE(e.status, EventStatus::Failed);
        QVERIFY2(e.lastError.startsWith("not a valid CloudEvent: the data is declared as JSON but is not valid JSON"),
            qPrintable(e.lastError));
        QCOMPARE(row(good).status, EventStatus::Sent);
        QCOMPARE(m_receiver->requestCount(), 1);
        QCOMPARE(m_receiver->events().first().event.id, good);
    }

    void relayOnceCountsOneBatch()
    {
        for (int i = 0; i < 7; ++i)
            enqueue();
        RelayerConfig c = config();
        c.batchSize = 5;
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 5);
        QCOMPARE(relayer.relayOnce().processed, 2);
        QCOMPARE(relayer.relayOnce().processed, 0);
        QCOMPARE(m_receiver->eventCount(), 7);
    }

    void expiredLeaseOfADeadRelayerIsRecovered()
    {
        const QString id = enqueue();
        auto dead = testsupport::openStorage(m_path);
        QCOMPARE(relay(dead)->claim(QStringLiteral("dead"), 10, 300)->size(), 1);
        Relayer relayer(m_app->db(), config());
        QCOMPARE(relayer.relayOnce().processed, 0); // leased by someone else
        QCOMPARE(m_receiver->requestCount(), 0);
        QTest::qWait(350);
        QCOMPARE(relayer.relayOnce().processed, 1);
        QCOMPARE(row(id).status, EventStatus::Sent);
        QCOMPARE(m_receiver->eventCount(), 1);
    }

    void wakesOnCommitInThisProcess()
    {
        if (testsupport::isMysql())
            QSKIP("MySQL/MariaDB has no commit hook a client can see: relayers poll");
        RelayerConfig c = config();
        c.pollIntervalMs = 60000;
        c.maxIdleBackoffMs = 60000;
        c.changeCheckIntervalMs = 3600000; // only the commit hook can wake it
        Relayer relayer(m_app->db(), c);
        QSignalSpy polls(&relayer, &Relayer::batchFinished);
        QVERIFY(!relayer.start());
        QTest::qWait(100); // the first poll finds nothing; the next would be a minute away
        QSqlDatabase db = m_app->db();
        // A commit that enqueued nothing wakes nobody.
        QVERIFY(db.transaction());
        QVERIFY(QSqlQuery(db).exec("CREATE TABLE IF NOT EXISTS unrelated (n INTEGER)"));
        QVERIFY(db.commit());
        polls.clear();
        QTest::qWait(300);
        QCOMPARE(polls.size(), 0);
        QVERIFY(db.transaction());
        const QString id = enqueue();
        QTest::qWait(200);
        QCOMPARE(m_receiver->eventCount(), 0); // nothing before the commit
        QElapsedTimer clock;
        clock.start();
        QVERIFY(db.commit());
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver->eventCount(), 1, 2000);
        QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(m_receiver->events().first().event.id, id);
        relayer.stop();
    }

    void noticesCommitsOfOtherProcesses()
    {
        if (testsupport::isMysql())
            QSKIP("MySQL/MariaDB has no notification of other sessions' commits: relayers poll");
        RelayerConfig c = config();
        c.pollIntervalMs = 60000;
        c.maxIdleBackoffMs = 60000;
        c.wakeOnLocalCommit = false; // only the data_version check can wake it
        // Events relayed first: the relayer's kept statements have returned rows before it goes idle
        // (PostgreSQL: a kept statement left in the middle of its result stopped NOTIFY from being heard).
        for (int i = 0; i < 3; ++i)
            enqueue();
        Relayer relayer(m_app->db(), c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver->eventCount(), 3, 5000);
        // Seven events from another process, one at a time: the median must arrive at once, not when the relayer
        // next runs a statement for another reason (which also reads notifications that waited).
        QList<qint64> waits;
        for (int k = 1; k <= 7; ++k) {
            QTest::qWait(300);
            QProcess ctl;
            ctl.start(QStringLiteral(OUTBOXCTL_PATH),
                {"--db", m_path.toUrl(), "enqueue", "--type", "from.other.process", "--source", "/ctl"});
            QVERIFY(ctl.waitForFinished(10000));
            QCOMPARE(ctl.exitCode(), 0);
            QElapsedTimer clock;
            clock.start();
            while (m_receiver->eventCount() < 3 + k && clock.elapsed() < 2000)
                QTest::qWait(2);
            QCOMPARE(m_receiver->eventCount(), 3 + k);
            waits << clock.elapsed();
            QCOMPARE(m_receiver->events().last().event.type, QStringLiteral("from.other.process"));
        }
        std::sort(waits.begin(), waits.end());
        QStringList shown;
        for (qint64 w : std::as_const(waits))
            shown << QString::number(w);
        // PostgreSQL: NOTIFY, a few ms (with the kept statements read row by row: 37-151 ms, heard only when
        // some other statement ran); SQLite: the data_version check every 20 ms.
        const qint64 bound = testsupport::isPostgres() ? 50 : 150;
        QVERIFY2(
            waits.at(3) < bound, qPrintable(QStringLiteral("waits in ms, sorted: ") + shown.join(QLatin1Char(' '))));
        relayer.stop();
    }

    // A table of 20,000 sent events that the server has not analysed (autovacuum off for it: a bulk enqueue or a
    // busy hour leave the statistics behind), 40 events to relay, half of them refused with 400 (so the history
    // of attempts is written too). The relayer's statements must find their rows through an index: written
    // against the statistics, the claim and every write-back read the whole table (2.5 ms per write-back of one
    // row with 10,000 rows, which made one request per event 2.6x slower).
    void relayingReadsOnlyTheRowsItRelays()
    {
        if (!testsupport::isPostgres())
            QSKIP("PostgreSQL's statistics count the rows each table gave to sequential scans");
        QSqlQuery q(m_app->db());
        QVERIFY(q.exec(QStringLiteral("ALTER TABLE outbox_events SET (autovacuum_enabled = false)")));
        QVERIFY2(q.exec(QStringLiteral(
                     "INSERT INTO outbox_events (id, type, source, status, attempts, next_attempt_at, created_at, "
                     "sent_at) SELECT 'old-' || g, 'com.example.old', '/old', 'sent', 1, now(), now(), now() "
                     "FROM generate_series(1, 20000) AS g")),
            qPrintable(q.lastError().text()));
        for (int i = 0; i < 20; ++i) {
            enqueue(QStringLiteral("com.example.kept"));
            enqueue(QStringLiteral("com.example.refused"));
        }
        ReceiverFaultRule refuse;
        refuse.type = QStringLiteral("com.example.refused");
        refuse.faults.status = 400;
        m_receiver->setFaultRules({refuse});
        // What the table's statistics say, once this connection's own counts are in them.
        const auto counts = [this]() -> std::pair<qint64, qint64> {
            QSqlQuery s(m_app->db());
            s.exec(QStringLiteral("SELECT pg_stat_force_next_flush()"));
            s.exec(QStringLiteral("SELECT 1"));
            // The events and their queue rows (schema version 10): the claim rewrites the queue row, the
            // write-back deletes it and rewrites the event.
            if (!s.exec(QStringLiteral("SELECT SUM(seq_tup_read), SUM(n_tup_upd + n_tup_del) FROM pg_stat_user_tables "
                                       "WHERE relname IN ('outbox_events', 'outbox_queue') AND schemaname = "
                                       "current_schema()"))
                || !s.next())
                return {-1, -1};
            return {s.value(0).toLongLong(), s.value(1).toLongLong()};
        };
        const auto [readBefore, updatedBefore] = counts();
        QVERIFY(readBefore >= 0);
        {
            Relayer relayer(m_app->db(), config());
            QVERIFY(!relayer.start());
            QTRY_COMPARE_WITH_TIMEOUT(m_receiver->requestCount(), 40, 10000);
            relayer.stop(); // writes the last results first
        } // its session ends, and its counts go into the statistics
        std::pair<qint64, qint64> after;
        QTRY_VERIFY_WITH_TIMEOUT((after = counts()).second >= updatedBefore + 80, 10000); // claimed, then written
        QVERIFY2(after.first - readBefore < 1000,
            qPrintable(QStringLiteral("rows read by sequential scans: %1").arg(after.first - readBefore)));
        QCOMPARE(m_app->scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'failed'").toInt(), 20);
        QCOMPARE(m_app->scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'").toInt(), 20020);
        QCOMPARE(m_app->scalar("SELECT COUNT(*) FROM outbox_attempts WHERE outcome = 'failed'").toInt(), 20);
    }

    void stopFinishesRequestsInFlightAndReleasesTheRest()
    {
        for (int i = 0; i < 20; ++i)
            enqueue();
        ReceiverFaults f;
        f.delayMs = 300;
        m_receiver->setFaults(f);
        RelayerConfig c = config();
        c.concurrency = 2;
        Relayer relayer(m_app->db(), c);
        QVERIFY(!relayer.start());
        QTRY_VERIFY_WITH_TIMEOUT(m_receiver->requestCount() >= 1, 3000);
        relayer.stop();
        QCOMPARE(m_app
                     ->scalar(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE lease_owner IS NOT NULL")
                                  .arg(testsupport::eventsWithLeases()))
                     .toInt(),
            0);
        const int sent = m_app->scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'").toInt();
        QVERIFY(sent >= 1);
        QVERIFY(sent < 20);
        // Every request that reached the receiver was answered and written back as sent.
        QCOMPARE(sent, m_receiver->requestCount());
        QCOMPARE(m_app->scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'pending' AND attempts = 0").toInt(),
            20 - sent);
        QCOMPARE(m_app->scalar("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent' AND last_relayer IS NOT NULL")
                     .toInt(),
            sent);
        QCOMPARE(
            m_app->scalar("SELECT COUNT(*) FROM outbox_attempts").toInt(), 0); // delivered attempts live on their rows
    }

    void startedRelayerDeliversEverything()
    {
        for (int i = 0; i < 500; ++i)
            enqueue();
        Relayer relayer(m_app->db(), config());
        QSignalSpy batches(&relayer, &Relayer::batchFinished);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->stats()->sent, 500, 20000);
        relayer.stop();
        QCOMPARE(m_receiver->eventCount(), 500);
        QTRY_VERIFY(batches.size() >= 5); // 100 per batch
    }

    // On SQLite a write-back of deliveries alone is one statement without BEGIN and COMMIT, so its commit is its
    // last step, after the rows it wrote came back. On a real full disk (a small tmpfs) that step fails: the
    // results are kept, not reported written, and written once there is room again; nothing is sent twice.
    void deliveredWriteBackOnAFullDiskIsKept()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite condition");
        QTemporaryDir mountPoint;
        if (QProcess::execute(QStringLiteral("mount"), {"-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint.path()})
            != 0)
            QSKIP("mounting a tmpfs is not permitted here");
        auto unmount = qScopeGuard([&] {
            m_app.reset();
            m_storage.reset();
            QProcess::execute(QStringLiteral("umount"), {mountPoint.path()});
        });
        m_app.reset();
        m_storage.reset();
        m_path = ConnectionSpec::sqlite(mountPoint.filePath(QStringLiteral("outbox.db")));
        m_storage = testsupport::openStorage(m_path);
        m_app = std::make_unique<AppConnection>(m_path);
        const QStringList ids{enqueue(), enqueue(), enqueue()};
        const QString filler = mountPoint.filePath(QStringLiteral("filler"));
        std::atomic<int> sends = 0;
        RelayerConfig c;
        c.customSender = [&sends, filler](const OutboxEvent &) {
            if (sends++ == 0) { // the disk fills up while the events are on their way
                QFile f(filler);
                if (f.open(QIODevice::WriteOnly)) {
                    const QByteArray chunk(4096, 'f');
                    while (f.write(chunk) == chunk.size() && f.flush()) { }
                }
            }
            return DeliveryResult::sent(202);
        };
        Relayer relayer(m_path, c);
        const RelayOnceResult first = relayer.relayOnce();
        QVERIFY2(first.error, "the write-back on a full disk reported no error");
        QVERIFY2(first.error.message().contains(QStringLiteral("full")), qPrintable(first.error.message()));
        for (const QString &id : ids)
            QCOMPARE(row(id).status, EventStatus::Pending); // nothing written; still leased to the relayer
        QVERIFY(QFile::remove(filler));
        QCOMPARE(relayer.relayOnce().processed, 0); // the kept results are written first; nothing else is due
        for (const QString &id : ids) {
            QCOMPARE(row(id).status, EventStatus::Sent);
            QCOMPARE(row(id).attempts, 1);
        }
        QCOMPARE(sends.load(), 3); // none sent twice
    }

    // A write-back the database refuses (here a trigger standing in for a full disk or an I/O error): the
    // delivered events' results are kept and written before the next claim, never sent again; on stop the
    // relayer waits for the database a bounded time.
    void resultsSurviveAFailedWriteBack()
    {
        if (testsupport::isPostgres())
            QSKIP("the trigger is written in SQLite's and MySQL's dialects; PostgreSQL's lost connection is tested "
                  "above");
        QSqlQuery q(m_app->db());
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE fail_writeback (x INTEGER)")));
        if (testsupport::isMysql())
            QVERIFY2(
                q.exec(QStringLiteral("CREATE TRIGGER fail_writeback BEFORE UPDATE ON outbox_events FOR EACH ROW "
                                      "BEGIN IF NEW.status <> OLD.status AND EXISTS (SELECT 1 FROM fail_writeback) "
                                      "THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk I/O error (simulated)'; "
                                      "END IF; END")),
                qPrintable(q.lastError().text()));
        else
            QVERIFY(q.exec(QStringLiteral("CREATE TRIGGER fail_writeback BEFORE UPDATE OF status ON outbox_events "
                                          "WHEN EXISTS (SELECT 1 FROM fail_writeback) BEGIN SELECT RAISE(ABORT, 'disk "
                                          "I/O error (simulated)'); END")));
        const QStringList ids{enqueue(), enqueue(), enqueue()};
        std::atomic<int> sends = 0;
        const ConnectionSpec spec = m_path;
        RelayerConfig c;
        c.customSender = [&sends, spec](const OutboxEvent &) {
            if (sends++ == 0) {
                testsupport::AppConnection other(spec);
                QSqlQuery(other.db()).exec(QStringLiteral("INSERT INTO fail_writeback VALUES (1)"));
            }
            return DeliveryResult::sent(200);
        };
        std::thread comeBack;
        QElapsedTimer closing;
        {
            Relayer relayer(m_path, c);
            // Issue 26: deliveries are announced (and so counted by logs and /metrics) when written, not before.
            std::atomic<int> announced = 0;
            connect(
                &relayer, &Relayer::eventSent, this, [&announced] { ++announced; }, Qt::DirectConnection);
            const RelayOnceResult first = relayer.relayOnce();
            QVERIFY(first.error);
            QTest::qWait(200); // the lane's signals reach the relayer's thread queued
            QCOMPARE(announced.load(), 0);
            QVERIFY2(first.error.message().contains(QStringLiteral("simulated")), qPrintable(first.error.message()));
            QCOMPARE(row(ids.first()).status, EventStatus::Pending); // not written, still leased to the relayer
            QVERIFY(q.exec(QStringLiteral("DELETE FROM fail_writeback")));
            QCOMPARE(relayer.relayOnce().processed, 0); // the kept results are written first; nothing else is due
            for (const QString &id : ids) {
                QCOMPARE(row(id).status, EventStatus::Sent);
                QCOMPARE(row(id).attempts, 1);
            }
            QCOMPARE(sends.load(), 3); // none sent twice
            QTRY_COMPARE(announced.load(), 3); // written late, reported when written

            // On stop, a bounded wait: the database comes back after a second, the results are written.
            const QString late = enqueue();
            sends = 0;
            QVERIFY(relayer.relayOnce().error);
            comeBack = std::thread([spec] {
                QThread::msleep(1000);
                testsupport::AppConnection other(spec);
                QSqlQuery(other.db()).exec(QStringLiteral("DELETE FROM fail_writeback"));
            });
            closing.start();
            // Destroying the relayer closes its lanes, which wait (up to 10 s) to write what they hold.
        }
        QVERIFY2(closing.elapsed() >= 900, qPrintable(QString::number(closing.elapsed())));
        comeBack.join();
        QCOMPARE(row(ids.first()).status, EventStatus::Sent);
        QCOMPARE(sends.load(), 1);
        QSqlQuery after(m_app->db());
        QVERIFY(after.exec(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'")) && after.next());
        QCOMPARE(after.value(0).toInt(), 4);
    }

    // The SQLite file deleted under a running relayer: it says so on every poll while there is none, and
    // relays from the new file once one is there.
    void replacedFileIsNoticed()
    {
        if (testsupport::isServer())
            QSKIP("a SQLite file");
        RelayerConfig c = config();
        c.pollIntervalMs = 100;
        c.maxIdleBackoffMs = 200;
        Relayer relayer(m_path, c);
        QStringList errors;
        connect(&relayer, &Relayer::errorOccurred, this, [&](const QString &e) { errors << e; });
        QVERIFY(!relayer.start().isError());
        QTest::qWait(200);
        m_app.reset();
        m_storage.reset();
        for (const char *suffix : {"", "-wal", "-shm"})
            QFile::remove(m_path.database + QLatin1String(suffix));
        QTRY_VERIFY_WITH_TIMEOUT(
            errors.join('\n').contains(QStringLiteral("was deleted or replaced, and cannot be opened again")), 5000);
        QVERIFY(!QFile::exists(m_path.database)); // not created again by the relayer
        m_storage = testsupport::openStorage(m_path); // a new outbox at the same path
        m_app = std::make_unique<AppConnection>(m_path);
        const QString id = enqueue();
        QTRY_COMPARE_WITH_TIMEOUT(row(id).status, EventStatus::Sent, 5000);
        QVERIFY(errors.join('\n').contains(QStringLiteral("relaying from the file now there")));
        relayer.stop();
    }

    void customSenderReplacesHttp()
    {
        const QString a = enqueue(QStringLiteral("good"));
        const QString b = enqueue(QStringLiteral("bad"));
        RelayerConfig c;
        c.customSender = [](const OutboxEvent &e) {
            return e.type == QLatin1String("good")
                ? DeliveryResult::sent(204)
                : DeliveryResult::failed(QStringLiteral("rejected by custom sender"));
        };
        Relayer relayer(m_app->db(), c);
        QCOMPARE(relayer.relayOnce().processed, 2);
        QCOMPARE(row(a).status, EventStatus::Sent);
        QCOMPARE(row(a).lastHttpStatus, 204);
        QCOMPARE(row(b).status, EventStatus::Failed);
        QCOMPARE(row(b).lastError, QStringLiteral("rejected by custom sender"));
        QCOMPARE(m_receiver->requestCount(), 0);
    }

    void cleanupOldEvents()
    {
        for (int i = 0; i < 3; ++i)
            enqueue();
        Relayer relayer(m_app->db(), config());
        QCOMPARE(relayer.relayOnce().processed, 3);
        QCOMPARE(*relayer.cleanupOldEvents(3600 * 1000), 0);
        QTest::qWait(5);
        QCOMPARE(*relayer.cleanupOldEvents(0), 3);
        QCOMPARE(m_storage->stats()->sent, 0);
    }

    void badConfigurationIsRefused()
    {
        RelayerConfig c = config();
        c.targetUrl = QUrl(QStringLiteral("ftp://example/"));
        Relayer relayer(m_app->db(), c);
        const Error e = relayer.start();
        QCOMPARE(e.code(), Error::InvalidArgument);
        QVERIFY(e.message().contains("no transport for ftp://"));
        QVERIFY(!relayer.isRunning());
        c = config();
        c.batchSize = 0;
        QVERIFY(Relayer(m_app->db(), c).relayOnce().error.isError());
    }

    // outboxctl relay (flags, environment, config file) and the console's relay panel build their relayer from
    // named settings the one way: numbers, files and routes mean the same and are refused the same.
    void settingsBuildOneRelayer()
    {
        QTemporaryDir dir;
        QHash<QString, QStringList> s;
        auto build = [&s](RelayerConfig *c, QString *problem) {
            return relayerConfigFromSettings([&s](const QString &name) { return s.value(name); }, c, problem);
        };
        auto write = [&dir](const char *name, const QByteArray &text, QFile::Permissions mode) {
            const QString path = dir.filePath(QLatin1String(name));
            QFile f(path);
            if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size())
                qFatal("cannot write %s", name);
            f.close();
            f.setPermissions(mode);
            return path;
        };
        const auto ownerOnly = QFile::ReadOwner | QFile::WriteOwner;
        s.insert("target", {"http://127.0.0.1:9/events"});
        s.insert("mode", {"batch"});
        s.insert("poll-interval", {"45000"}); // above the default longest idle wait, which follows it
        s.insert("header", {"X-One: 1", "X-Two: 2"});
        s.insert("header-file", {write("h", "# comment\nX-Three: 3\n", ownerOnly)});
        s.insert("routes",
            {write(
                "routes", "[route orders]\ntypes = com.example.order.*\ntarget = http://127.0.0.1:9/o\n", ownerOnly)});
        RelayerConfig c;
        c.name = QStringLiteral("mine");
        QString problem;
        QVERIFY2(build(&c, &problem), qPrintable(problem));
        QCOMPARE(c.name, QStringLiteral("mine")); // what the caller set stays
        QCOMPARE(c.contentMode, ContentMode::Batch);
        QCOMPARE(c.pollIntervalMs, 45000);
        QCOMPARE(c.maxIdleBackoffMs, 45000);
        QCOMPARE(c.batchSize, RelayerConfig().batchSize);
        QCOMPARE(c.headers.size(), 3);
        QCOMPARE(c.headers.at(2), std::make_pair(QByteArray("X-Three"), QByteArray("3")));
        QCOMPARE(c.routes.size(), 2); // the file's, then the target as the default route
        QCOMPARE(c.routes.at(1).types, QStringList{"*"});
        QCOMPARE(c.routes.at(1).contentMode, ContentMode::Batch);

        // Each refusal in one line naming the setting or file, and nothing of the config changed.
        RelayerConfig before;
        before.headers = {{"X-Mine", "m"}};
        const QList<std::pair<QStringList, QString>> bad = {
            {{"batch-size", "lots"}, "invalid batch-size 'lots'"},
            {{"lease", "5"}, "invalid lease '5': expected a whole number from 300"},
            {{"target", "http//nohost"}, "malformed target URL"},
            {{"target", "ftp://127.0.0.1/x"}, "no transport for ftp:// targets is installed"},
            {{"mode", "carrier-pigeon"}, "unknown mode 'carrier-pigeon'"},
            {{"header", "no colon here"}, "header: expected a header"},
            {{"header", "Host: evil.example"}, "Host"},
            {{"header-file", write("open.headers", "X-Secret: s\n", ownerOnly | QFile::ReadOther)}, "chmod 600"},
            {{"signing-secret-file", write("secret", "not a secret\n", ownerOnly)},
                "does not hold a Standard Webhooks"},
        };
        for (const auto &[setting, expected] : bad) {
            QHash<QString, QStringList> saved = s;
            s.insert(setting.at(0), {setting.at(1)});
            RelayerConfig d = before;
            problem.clear();
            QVERIFY2(!build(&d, &problem), qPrintable(setting.join(' ')));
            QVERIFY2(problem.contains(expected), qPrintable(problem));
            QVERIFY(!problem.contains('\n'));
            QVERIFY(!problem.contains("X-Secret: s"));
            QCOMPARE(d.headers, before.headers);
            s = saved;
        }
    }
};

QTEST_GUILESS_MAIN(TestRelayer)
#include "tst_relayer.moc"
