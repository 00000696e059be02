// SPDX-License-Identifier: MIT
// The NATS JetStream transport, through its plug-in, against a real nats-server (with JetStream) started here on
// a free loopback port. What the relayer published is read back from the stream with the NATS C client (the
// stream's own copy: subject, headers, body), and by the npm nats client in the conformance test.

#include "relayer.h"
#include "relayerconfig.h"
#include "sendevent.h"
#include "storage.h"
#include "brokerservers.h"
#include "brokertest.h"
#include "natstest.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <nats/nats.h>

#include <memory>

using namespace outbox;

class TestNats : public QObject, public NatsTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { nats_Open(-1); }
    void init() { openFixture(); }
    void cleanup() { closeFixture(); }

    // Binary mode: each event one message in the stream, every attribute (datacontenttype too) a ce- header
    // percent-encoded as the CloudEvents NATS binding says, Nats-Msg-Id its id, its data the body.
    void natsBinaryMode()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        QSet<QString> ids;
        for (int i = 0; i < 20; ++i) {
            SendEventOptions o;
            o.subject = QStringLiteral("order %1").arg(i);
            o.extensions = QJsonObject{{QStringLiteral("traceparent"), QStringLiteral("00-abc-01")},
                {QStringLiteral("tenant"), QStringLiteral("café \"100%\"")}};
            ids.insert(enqueue(
                QStringLiteral("com.example.order.créé"), QByteArray("{\"n\":") + QByteArray::number(i) + "}", o));
        }
        Relayer relayer(m_spec, config(QStringLiteral("shop.orders")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 20, 15000);
        relayer.stop();
        QCOMPARE(admin.count("SHOP"), 20);
        QSet<QString> seen;
        for (quint64 seq = 1; seq <= 20; ++seq) {
            const Stored m = admin.get("SHOP", seq);
            QCOMPARE(m.subject, QStringLiteral("shop.orders"));
            QCOMPARE(m.headers.value("ce-specversion"), QByteArray("1.0"));
            QCOMPARE(m.headers.value("ce-type"), QByteArray("com.example.order.cr%C3%A9%C3%A9"));
            QCOMPARE(m.headers.value("ce-source"), QByteArray("/shop"));
            QCOMPARE(m.headers.value("ce-traceparent"), QByteArray("00-abc-01"));
            QCOMPARE(m.headers.value("ce-tenant"), QByteArray("caf%C3%A9%20%22100%25%22"));
            QCOMPARE(m.headers.value("ce-datacontenttype"), QByteArray("application/json"));
            QVERIFY(!m.headers.value("ce-time").isEmpty());
            QVERIFY(!m.headers.contains("content-type")); // binary: no CloudEvents content type
            const QByteArray subject = m.headers.value("ce-subject");
            QVERIFY2(subject.startsWith("order%20"), subject.constData());
            QCOMPARE(m.body, QByteArray("{\"n\":") + subject.mid(8) + "}");
            QCOMPARE(m.headers.value("nats-msg-id"), m.headers.value("ce-id"));
            seen.insert(QString::fromUtf8(m.headers.value("ce-id")));
        }
        QCOMPARE(seen, ids);
    }

    // Structured mode: the whole event as JSON, Content-Type application/cloudevents+json.
    void natsStructuredMode()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        const QString id = enqueue(QStringLiteral("com.example.paid"), "{\"amount\":12.5}");
        Relayer relayer(m_spec, config(QStringLiteral("shop.paid"), ContentMode::Structured));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
        relayer.stop();
        const Stored m = admin.get("SHOP", 1);
        QVERIFY2(m.headers.value("content-type").startsWith("application/cloudevents+json"),
            m.headers.value("content-type").constData());
        QCOMPARE(m.headers.value("nats-msg-id"), id.toUtf8());
        const QJsonObject event = QJsonDocument::fromJson(m.body).object();
        QCOMPARE(event.value(QStringLiteral("id")).toString(), id);
        QCOMPARE(event.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.paid"));
        QCOMPARE(event.value(QStringLiteral("data")).toObject().value(QStringLiteral("amount")).toDouble(), 12.5);
    }

    // A relayer that published and died before writing `sent` back sends the events again: the stream's
    // duplicate window drops the second copies (same Nats-Msg-Id), and the events are sent.
    void natsResendIsDropped()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        for (int i = 0; i < 5; ++i)
            enqueue(QStringLiteral("com.example.once"), "{}");
        {
            Relayer relayer(m_spec, config(QStringLiteral("shop.once")));
            QVERIFY(!relayer.start());
            QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 5, 15000);
            relayer.stop();
        }
        QSqlQuery q(m_app->db());
        QVERIFY(
            q.exec(QStringLiteral("UPDATE outbox_events SET status = 'pending', sent_at = NULL, next_attempt_at = 0")));
        Relayer again(m_spec, config(QStringLiteral("shop.once")));
        QVERIFY(!again.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 5, 15000);
        again.stop();
        QCOMPARE(admin.count("SHOP"), 5);
    }

    // No stream takes the subject: the event fails with that reason (no retry makes a stream appear).
    void natsNoStream()
    {
        startServer();
        enqueue(QStringLiteral("com.example.lost"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("nowhere.at.all")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'failed'")), 1, 15000);
        relayer.stop();
        QVERIFY2(lastError().contains(QStringLiteral("no JetStream stream")), qPrintable(lastError()));
        QVERIFY2(lastError().contains(QStringLiteral("nowhere.at.all")), qPrintable(lastError()));
    }

    // An event larger than the server's max_payload fails with the sizes; the others in the same relay arrive.
    void natsOverMaxPayload()
    {
        startServer(4096);
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        enqueue(QStringLiteral("com.example.small"), "{}");
        enqueue(QStringLiteral("com.example.huge"), "\"" + QByteArray(10000, 'x') + "\"");
        enqueue(QStringLiteral("com.example.small"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("shop.size")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 2, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'failed' AND type = 'com.example.huge'")), 1, 15000);
        relayer.stop();
        QVERIFY2(lastError().contains(QStringLiteral("max_payload of 4096")), qPrintable(lastError()));
        QCOMPARE(admin.count("SHOP"), 2);
    }

    // The stream is full (max 5 messages, new ones refused): the rest wait, their attempts not charged, with
    // the server's reason; once there is room (the stream purged), they are sent. Nothing is lost.
    void natsStreamFull()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>", 5), qPrintable(admin.lastError()));
        for (int i = 0; i < 8; ++i)
            enqueue(QStringLiteral("com.example.full"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("shop.full")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 5, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(lastError().contains(QStringLiteral("maximum messages")), 10000);
        QTest::qWait(1000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("status = 'pending'")), 3);
        QVERIFY(admin.purge("SHOP"));
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 8, 30000);
        relayer.stop();
        QCOMPARE(admin.count("SHOP"), 3);
    }

    // No server when the relayer starts: the events wait, attempts not charged; once it is up, every one is sent.
    void natsServerDownAtStart()
    {
        startServer();
        {
            JetStreamAdmin admin(m_port);
            QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        }
        m_server->stop();
        for (int i = 0; i < 10; ++i)
            enqueue(QStringLiteral("com.example.later"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("shop.later")));
        QVERIFY(!relayer.start());
        QTest::qWait(2500);
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 0);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("attempts > 1")), 0);
        startServer();
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 10, 30000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        relayer.stop();
        JetStreamAdmin admin(m_port);
        QCOMPARE(admin.count("SHOP"), 10);
    }

    // The server restarts in the middle of 3,000 events: none is lost, none fails, and the stream holds each
    // exactly once (what was in flight at the cut is sent again, and the duplicate window drops the copies).
    void natsServerRestartedMidRelay()
    {
        startServer();
        {
            JetStreamAdmin admin(m_port);
            QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        }
        const int n = 3000;
        enqueueBulk(n);
        RelayerConfig c = config(QStringLiteral("shop.bulk"));
        c.batchSize = 20;
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_VERIFY_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")) >= 200, 15000);
        m_server->stop();
        const int sentAtCut = count(QStringLiteral("status = 'sent'"));
        QTest::qWait(1500);
        startServer();
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), n, 60000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        relayer.stop();
        QVERIFY2(sentAtCut < n, "the cut came after the relay had finished: nothing was tested");
        JetStreamAdmin admin(m_port);
        QCOMPARE(admin.count("SHOP"), n);
    }

    void natsReadByTheCloudEventsSdk_data() { addModeRows(); }

    // The npm nats client (not ours) reads the stream, and the CloudEvents JavaScript SDK reads each event from
    // what it got: every attribute, extension and the data, for JSON, text and bytes; percent-encoded headers
    // decoded back.
    void natsReadByTheCloudEventsSdk()
    {
        QFETCH(int, mode);
        if (!haveNode())
            QSKIP("node is not installed (packaging/install-deps.sh installs it)");
        QVERIFY2(QFile::exists(QStringLiteral(CONFORMANCE_DIR "/node_modules/nats/package.json")),
            "the conformance_npm fixture did not install the npm packages");
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SDK", "sdk.>"), qPrintable(admin.lastError()));
        const QString subject = QStringLiteral("orders/42 \u00e9");
        const SdkEvents e = enqueueSdkEvents(subject);
        Relayer relayer(m_spec, config(QStringLiteral("sdk.events"), ContentMode(mode)));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();

        QProcess sdk;
        sdk.start(QStringLiteral("node"),
            {QStringLiteral(CONFORMANCE_DIR "/conformance.js"), QStringLiteral("nats-receive"),
                QStringLiteral("nats://127.0.0.1:%1").arg(m_port), QStringLiteral("SDK")});
        QVERIFY(sdk.waitForStarted(10000));
        const QHash<QString, QJsonObject> read = readSdkLines(sdk, 3, 20000, [](const QJsonObject &line) {
            return line.value(QStringLiteral("headers")).toObject().value(QStringLiteral("nats-msg-id")).toString();
        });
        QVERIFY2(read.size() >= 3, qPrintable(QStringLiteral("the SDK read %1 of 3 events").arg(read.size())));
        sdk.kill();
        sdk.waitForFinished(5000);
        const bool structured = ContentMode(mode) == ContentMode::Structured;
        for (const QJsonObject &line : std::as_const(read)) {
            QVERIFY2(line.value(QStringLiteral("ok")).toBool(), QJsonDocument(line).toJson().constData());
            QCOMPARE(line.value(QStringLiteral("subject")).toString(), QStringLiteral("sdk.events"));
            QCOMPARE(line.value(QStringLiteral("mode")).toString(),
                structured ? QStringLiteral("structured") : QStringLiteral("binary"));
        }
        QHash<QString, QJsonObject> events;
        for (auto it = read.cbegin(); it != read.cend(); ++it)
            events.insert(it.key(), it.value().value(QStringLiteral("event")).toObject());
        checkSdkEvents(events, e, subject);
        const QJsonObject j = events.value(e.jsonId);
        QCOMPARE(j.value(QStringLiteral("datacontenttype")).toString(), QStringLiteral("application/json"));
        QCOMPARE(j.value(QStringLiteral("data")).toObject(), QJsonDocument::fromJson(e.jsonData).object());
    }

    // What a NATS target cannot be, said in one line before anything is taken.
    void natsTargetProblems()
    {
        const QList<std::pair<QString, QString>> bad = {
            {QStringLiteral("nats://127.0.0.1:4222/"), QStringLiteral("needs a subject")},
            {QStringLiteral("nats://127.0.0.1:4222/a.*.b"), QStringLiteral("wildcard")},
            {QStringLiteral("nats://127.0.0.1:4222/a.>"), QStringLiteral("wildcard")},
            {QStringLiteral("nats://127.0.0.1:4222/a..b"), QStringLiteral("is not a NATS subject")},
            {QStringLiteral("nats://u:secret@127.0.0.1:4222/t"), QStringLiteral("secrets only come from files")},
            {QStringLiteral("nats://127.0.0.1:4222/t?stream=X"), QStringLiteral("'stream' is not known")},
        };
        checkTargetProblems(bad);
        checkBatchRefused(QUrl(QStringLiteral("nats://127.0.0.1:4222/t")));
        RelayerConfig fine;
        fine.targetUrl = QUrl(QStringLiteral("tls://nats.example:4222/orders.created"));
        QCOMPARE(fine.problem(), QString());
    }

    // outboxctl relay takes a nats:// target; outboxctl receive --from nats:// prints what arrives as it prints
    // HTTP requests, the attributes read back from the ce- headers.
    void outboxctlRelaysAndReceives()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY2(admin.addStream("SHOP", "shop.>"), qPrintable(admin.lastError()));
        QProcess receive;
        receive.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("receive"), QStringLiteral("--from"),
                QStringLiteral("nats://127.0.0.1:%1/shop.>").arg(m_port), QStringLiteral("--count"),
                QStringLiteral("3")});
        QVERIFY(receive.waitForStarted(5000));
        // Subscribed once a probe published with the C client comes out (the first of the three).
        for (int i = 0; i < 40 && !receive.canReadLine(); ++i) {
            const QByteArray id = "probe-" + QByteArray::number(i);
            admin.publish("shop.probe",
                {{"ce-specversion", "1.0"}, {"ce-id", id.constData()}, {"ce-type", "probe"}, {"ce-source", "/probe"}},
                "{}");
            receive.waitForReadyRead(1000);
        }
        QVERIFY2(receive.readLine().contains("\"type\":\"probe\""), receive.readAllStandardError().constData());
        SendEventOptions o;
        o.subject = QStringLiteral("order 7");
        o.extensions = QJsonObject{{QStringLiteral("tenant"), QStringLiteral("café")}};
        const QString binaryId = enqueue(QStringLiteral("com.example.binary"), "{\"n\":1}", o);
        QProcess relay;
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("--db"), m_spec.toUrl(), QStringLiteral("relay"), QStringLiteral("--drain"),
                QStringLiteral("--target"), QStringLiteral("nats://127.0.0.1:%1/shop.a").arg(m_port)});
        QVERIFY(relay.waitForFinished(60000));
        QVERIFY2(relay.exitCode() == 0, relay.readAllStandardError().constData());
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 1);
        const QString structuredId = enqueue(QStringLiteral("com.example.structured"), "{\"n\":2}");
        Relayer structured(m_spec, config(QStringLiteral("shop.b"), ContentMode::Structured));
        QVERIFY(!structured.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 2, 15000);
        structured.stop();
        if (receive.state() != QProcess::NotRunning)
            receive.waitForFinished(15000); // --count 3: it ends by itself
        const QByteArray out = receive.readAllStandardOutput();
        QVERIFY2(receive.state() == QProcess::NotRunning, out.constData());
        QCOMPARE(receive.exitCode(), 0);
        QHash<QString, QJsonObject> lines;
        for (const QByteArray &line : out.split('\n')) {
            if (!line.isEmpty()) {
                const QJsonObject j = QJsonDocument::fromJson(line).object();
                lines.insert(j.value(QStringLiteral("id")).toString(), j);
            }
        }
        const QJsonObject b = lines.value(binaryId);
        QCOMPARE(b.value(QStringLiteral("mode")).toString(), QStringLiteral("binary"));
        QVERIFY(b.value(QStringLiteral("valid")).toBool());
        QCOMPARE(b.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.binary"));
        QCOMPARE(b.value(QStringLiteral("subject")).toString(), QStringLiteral("order 7"));
        QCOMPARE(b.value(QStringLiteral("extensions")).toObject().value(QStringLiteral("tenant")).toString(),
            QStringLiteral("café"));
        QCOMPARE(b.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 1);
        const QJsonObject s = lines.value(structuredId);
        QCOMPARE(s.value(QStringLiteral("mode")).toString(), QStringLiteral("structured"));
        QVERIFY(s.value(QStringLiteral("valid")).toBool());
        QCOMPARE(s.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 2);
    }
};

QTEST_GUILESS_MAIN(TestNats)
#include "tst_nats.moc"
