// SPDX-License-Identifier: MIT
// Broker transports, through their plug-ins, against real brokers started here on free loopback ports, and read
// back by clients we did not write. MQTT: Eclipse mosquitto (the broker, and mosquitto_sub as the consumer).

#include "relayer.h"
#include "relayerconfig.h"
#include "sendevent.h"
#include "storage.h"
#include "brokerservers.h"
#include "brokertest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QProcess>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace outbox;

namespace {

// Publishes one message with mosquitto_pub (Eclipse's client, not ours), QoS 1, with extra arguments (-D ...).
void mosquittoPub(quint16 port, const QString &topic, const QString &payload, const QStringList &extra = {})
{
    QProcess::execute(QStringLiteral("mosquitto_pub"),
        QStringList{QStringLiteral("-V"), QStringLiteral("mqttv5"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"),
            QStringLiteral("-p"), QString::number(port), QStringLiteral("-q"), QStringLiteral("1"),
            QStringLiteral("-t"), topic, QStringLiteral("-m"), payload}
            + extra);
}

// mosquitto_sub, subscribed with QoS 1 in a session that outlives its connection: every message as a JSON line
// (topic, properties, payload).
class Subscriber
{
public:
    Subscriber(quint16 port, const QString &topic)
    {
        m_process.setProgram(QStringLiteral("mosquitto_sub"));
        m_process.setArguments({QStringLiteral("-V"), QStringLiteral("mqttv5"), QStringLiteral("-h"),
            QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(port), QStringLiteral("-t"), topic,
            QStringLiteral("-q"), QStringLiteral("1"), QStringLiteral("-c"), QStringLiteral("-i"),
            QStringLiteral("outbox-test-sub-%1").arg(port), QStringLiteral("-x"), QStringLiteral("600"),
            QStringLiteral("-F"), QStringLiteral("%j")});
        m_process.start();
    }
    ~Subscriber()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    // Started and subscribed: a probe published with mosquitto_pub (to PROBE_TOPIC, under the subscription)
    // has come back, however slow the machine.
    bool ready(quint16 port, const QString &probeTopic)
    {
        if (!m_process.waitForStarted(5000))
            return false;
        for (int i = 0; i < 40; ++i) {
            mosquittoPub(port, probeTopic, QStringLiteral("probe"));
            for (int w = 0; w < 10; ++w) {
                m_process.waitForReadyRead(50);
                if (m_buffer.append(m_process.readAllStandardOutput()).contains("\"probe\""))
                    return true;
            }
        }
        return false;
    }
    // Every message received so far (not the probes).
    QList<QJsonObject> messages()
    {
        m_buffer += m_process.readAllStandardOutput();
        QList<QJsonObject> out;
        for (const QByteArray &line : m_buffer.split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (!line.trimmed().isEmpty() && o.value(QStringLiteral("payload")).toString() != QLatin1String("probe"))
                out.append(o);
        }
        return out;
    }

private:
    QProcess m_process;
    QByteArray m_buffer;
};

// An MQTT 5 "broker" on a raw socket (not mosquitto) that acknowledges every QoS 1 PUBLISH but the first, whose
// PUBACK it withholds for good, as if lost on the way. It reads CONNECT (answered with a plain CONNACK), PUBLISH
// and PINGREQ; anything else is ignored.
class WithholdingMqttBroker : public QObject
{
public:
    WithholdingMqttBroker()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                connect(s, &QTcpSocket::readyRead, this, [this, s] { read(s); });
        });
        m_server.listen(QHostAddress::LocalHost);
    }
    quint16 port() const { return m_server.serverPort(); }
    int published() const { return m_published; }

private:
    void read(QTcpSocket *s)
    {
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        for (;;) {
            // A packet: its type in the first byte's high nibble, then its remaining length (a varint).
            qsizetype at = 1;
            quint32 length = 0;
            for (int shift = 0;; shift += 7) {
                if (at >= buffer.size())
                    return;
                const quint8 b = quint8(buffer.at(at++));
                length |= quint32(b & 0x7f) << shift;
                if (!(b & 0x80))
                    break;
            }
            if (buffer.size() < at + qsizetype(length))
                return;
            const int type = quint8(buffer.at(0)) >> 4;
            const QByteArray body = buffer.mid(at, length);
            buffer.remove(0, at + length);
            if (type == 1) {
                s->write(QByteArray::fromHex("2003000000")); // CONNACK: no session, success, no properties
            } else if (type == 3) {
                const int topicLength = (quint8(body.at(0)) << 8) | quint8(body.at(1));
                if (m_published++ > 0)
                    s->write(QByteArray::fromHex("4002") + body.mid(2 + topicLength, 2)); // PUBACK of its id
            } else if (type == 12) {
                s->write(QByteArray::fromHex("d000")); // PINGRESP
            }
        }
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    int m_published = 0;
};

} // namespace

class TestBrokers : public QObject, public BrokerTest
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_brokerDir;
    quint16 m_port = 0;
    std::unique_ptr<Mosquitto> m_broker;

    RelayerConfig config(const QString &topic, ContentMode mode = ContentMode::Binary) const
    {
        return fastConfig(QUrl(QStringLiteral("mqtt://127.0.0.1:%1/%2").arg(m_port).arg(topic)), mode);
    }
    void startBroker()
    {
        m_broker = std::make_unique<Mosquitto>(m_brokerDir->path(), m_port);
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
    }

private Q_SLOTS:
    void init()
    {
        openOutbox();
        m_brokerDir = std::make_unique<QTemporaryDir>();
        m_port = freePort();
    }
    void cleanup()
    {
        m_broker.reset();
        closeOutbox();
    }

    // Binary mode: each event is one MQTT 5 message with QoS 1, its attributes as user properties and its
    // content type as the content-type property, its data as the payload, exactly as mosquitto_sub reads it.
    void mqttBinaryMode()
    {
        startBroker();
        Subscriber sub(m_port, QStringLiteral("shop/#"));
        QVERIFY(sub.ready(m_port, QStringLiteral("shop/probe")));
        QSet<QString> ids;
        for (int i = 0; i < 20; ++i) {
            SendEventOptions o;
            o.subject = QStringLiteral("order-%1").arg(i);
            o.extensions = QJsonObject{{QStringLiteral("traceparent"), QStringLiteral("00-abc-01")}};
            ids.insert(enqueue(
                QStringLiteral("com.example.order.créé"), QByteArray("{\"n\":") + QByteArray::number(i) + "}", o));
        }
        Relayer relayer(m_spec, config(QStringLiteral("shop/orders")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 20, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(sub.messages().size(), 20, 10000);
        QSet<QString> seen;
        for (const QJsonObject &m : sub.messages()) {
            QCOMPARE(m.value(QStringLiteral("topic")).toString(), QStringLiteral("shop/orders"));
            QCOMPARE(m.value(QStringLiteral("qos")).toInt(), 1);
            const QJsonObject props = m.value(QStringLiteral("properties")).toObject();
            const QJsonObject user = props.value(QStringLiteral("user-properties")).toObject();
            QCOMPARE(user.value(QStringLiteral("specversion")).toString(), QStringLiteral("1.0"));
            QCOMPARE(user.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.order.créé"));
            QCOMPARE(user.value(QStringLiteral("source")).toString(), QStringLiteral("/shop"));
            QCOMPARE(user.value(QStringLiteral("traceparent")).toString(), QStringLiteral("00-abc-01"));
            QVERIFY(user.value(QStringLiteral("subject")).toString().startsWith(QStringLiteral("order-")));
            QVERIFY(!user.value(QStringLiteral("time")).toString().isEmpty());
            QVERIFY(!user.contains(QStringLiteral("datacontenttype"))); // it is the content-type property
            QCOMPARE(props.value(QStringLiteral("content-type")).toString(), QStringLiteral("application/json"));
            const QString n = user.value(QStringLiteral("subject")).toString().mid(6);
            QCOMPARE(m.value(QStringLiteral("payload")).toString(), QStringLiteral("{\"n\":%1}").arg(n));
            seen.insert(user.value(QStringLiteral("id")).toString());
        }
        QCOMPARE(seen, ids);
        relayer.stop();
    }

    // Structured mode: the whole event as JSON, content type application/cloudevents+json.
    void mqttStructuredMode()
    {
        startBroker();
        Subscriber sub(m_port, QStringLiteral("shop/#"));
        QVERIFY(sub.ready(m_port, QStringLiteral("shop/probe")));
        const QString id = enqueue(QStringLiteral("com.example.paid"), "{\"amount\":12.5}");
        Relayer relayer(m_spec, config(QStringLiteral("shop/paid"), ContentMode::Structured));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(sub.messages().size(), 1, 10000);
        const QJsonObject m = sub.messages().first();
        QVERIFY(m.value(QStringLiteral("properties"))
                    .toObject()
                    .value(QStringLiteral("content-type"))
                    .toString()
                    .startsWith(QStringLiteral("application/cloudevents+json")));
        const QJsonObject event =
            QJsonDocument::fromJson(m.value(QStringLiteral("payload")).toString().toUtf8()).object();
        QCOMPARE(event.value(QStringLiteral("id")).toString(), id);
        QCOMPARE(event.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.paid"));
        QCOMPARE(event.value(QStringLiteral("data")).toObject().value(QStringLiteral("amount")).toDouble(), 12.5);
        relayer.stop();
    }

    // Nothing listens at the broker's address when the relayer starts: the events wait, their attempts not
    // charged (the broker is unavailable, not the events wrong); once the broker is up, every one is sent.
    void mqttBrokerDownAtStart()
    {
        for (int i = 0; i < 10; ++i)
            enqueue(QStringLiteral("com.example.later"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("shop/later")));
        QVERIFY(!relayer.start());
        QTest::qWait(2500);
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 0);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("attempts > 1")), 0);
        startBroker();
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 10, 30000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        relayer.stop();
    }

    // The broker restarts in the middle of a relay: nothing is lost (a durable subscriber receives every event
    // at least once), nothing fails; duplicates can only come from messages in flight at the cut.
    void mqttBrokerRestartedMidRelay()
    {
        startBroker();
        auto sub = std::make_unique<Subscriber>(m_port, QStringLiteral("shop/#"));
        QVERIFY(sub->ready(m_port, QStringLiteral("shop/probe")));
        const int n = 3000;
        const QSet<QString> ids = enqueueBulk(n);
        RelayerConfig c = config(QStringLiteral("shop/bulk"));
        c.batchSize = 20;
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_VERIFY_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")) >= 200, 15000);
        m_broker->stop();
        const int sentAtCut = count(QStringLiteral("status = 'sent'"));
        QTest::qWait(1500);
        startBroker();
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), n, 60000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QVERIFY2(sentAtCut < n, "the cut came after the relay had finished: nothing was tested");
        QSet<QString> received;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const QJsonObject &m : sub->messages())
                    received.insert(m.value(QStringLiteral("properties"))
                                        .toObject()
                                        .value(QStringLiteral("user-properties"))
                                        .toObject()
                                        .value(QStringLiteral("id"))
                                        .toString());
                return received.size() >= n;
            }(),
            30000);
        QCOMPARE(received, ids);
        relayer.stop();
    }

    void mqttReadByTheCloudEventsSdk_data() { addModeRows(); }

    // The CloudEvents JavaScript SDK's MQTT binding reads what we publish, received by the npm mqtt client
    // (neither written by us): every attribute, extension and the data, for JSON, text and bytes.
    void mqttReadByTheCloudEventsSdk()
    {
        QFETCH(int, mode);
        if (!haveNode())
            QSKIP("node is not installed (packaging/install-deps.sh installs it)");
        QVERIFY2(QFile::exists(QStringLiteral(CONFORMANCE_DIR "/node_modules/mqtt/package.json")),
            "the conformance_npm fixture did not install the npm packages");
        startBroker();
        QProcess sdk;
        sdk.start(QStringLiteral("node"),
            {QStringLiteral(CONFORMANCE_DIR "/conformance.js"), QStringLiteral("mqtt-receive"),
                QStringLiteral("mqtt://127.0.0.1:%1").arg(m_port), QStringLiteral("sdk/#")});
        QVERIFY(sdk.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(sdk.canReadLine(), 15000);
        const QByteArray banner = sdk.readLine().trimmed();
        QVERIFY2(banner == "subscribed", (banner + sdk.readAllStandardError()).constData());

        const QString subject = QStringLiteral("orders/42");
        const SdkEvents e = enqueueSdkEvents(subject);
        Relayer relayer(m_spec, config(QStringLiteral("sdk/events"), ContentMode(mode)));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        const QHash<QString, QJsonObject> read = readSdkLines(sdk, 3, 15000, eventIdOf);
        QVERIFY2(read.size() >= 3, qPrintable(QStringLiteral("the SDK read %1 of 3 events").arg(read.size())));
        relayer.stop();
        sdk.kill();
        sdk.waitForFinished(5000);
        const bool structured = ContentMode(mode) == ContentMode::Structured;
        for (const QJsonObject &line : std::as_const(read)) {
            QVERIFY2(line.value(QStringLiteral("ok")).toBool(), QJsonDocument(line).toJson().constData());
            QCOMPARE(line.value(QStringLiteral("qos")).toInt(), 1);
            QCOMPARE(line.value(QStringLiteral("mode")).toString(),
                structured ? QStringLiteral("structured") : QStringLiteral("binary"));
            QCOMPARE(line.value(QStringLiteral("event")).toObject().value(QStringLiteral("specversion")).toString(),
                QStringLiteral("1.0"));
        }
        QHash<QString, QJsonObject> events;
        for (auto it = read.cbegin(); it != read.cend(); ++it)
            events.insert(it.key(), it.value().value(QStringLiteral("event")).toObject());
        checkSdkEvents(events, e, subject);
        const QJsonObject j = events.value(e.jsonId);
        // The SDK's MQTT binding gives binary mode's data as the payload's text (it does not read the content
        // type property into datacontenttype); structured mode's as the JSON value.
        const QJsonValue data = j.value(QStringLiteral("data"));
        if (structured)
            QCOMPARE(data.toObject(), QJsonDocument::fromJson(e.jsonData).object());
        else
            QCOMPARE(data.toString().toUtf8(), e.jsonData);
        QCOMPARE(read.value(e.jsonId).value(QStringLiteral("contentType")).toString().section(QLatin1Char(';'), 0, 0),
            structured ? QStringLiteral("application/cloudevents+json") : QStringLiteral("application/json"));
    }

    // A broker that takes users only: the user in the URL, the password from ?password-file=, which the engine
    // reads under the rule for every secret file (its owner alone may read it).
    void mqttUserWithPasswordFile()
    {
        const QString users = m_brokerDir->filePath(QStringLiteral("users"));
        QCOMPARE(QProcess::execute(QStringLiteral("mosquitto_passwd"),
                     {QStringLiteral("-b"), QStringLiteral("-c"), users, QStringLiteral("shop"),
                         QStringLiteral("s3cret pass")}),
            0);
        QFile::setPermissions(users, QFile::permissions(users) | QFileDevice::ReadOther | QFileDevice::ReadGroup);
        m_broker = std::make_unique<Mosquitto>(m_brokerDir->path(), m_port);
        m_broker->requireUsers(users);
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
        QTemporaryDir secrets;
        const QString passwordFile = secrets.filePath(QStringLiteral("mqtt-password"));
        {
            QFile f(passwordFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("s3cret pass\n");
        }
        QFile::setPermissions(passwordFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup);
        const QUrl target(
            QStringLiteral("mqtt://shop@127.0.0.1:%1/shop/auth?password-file=%2").arg(m_port).arg(passwordFile));
        RelayerConfig c = config(QStringLiteral("shop/auth"));
        c.targetUrl = target;
        QVERIFY2(c.problem().contains(QStringLiteral("other users can read it")), qPrintable(c.problem()));
        QFile::setPermissions(passwordFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QCOMPARE(c.problem(), QString());
        RelayerConfig noUser = c;
        noUser.targetUrl =
            QUrl(QStringLiteral("mqtt://127.0.0.1:%1/shop/auth?password-file=%2").arg(m_port).arg(passwordFile));
        QVERIFY2(noUser.problem().contains(QStringLiteral("needs a user")), qPrintable(noUser.problem()));
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.auth"), "{}");
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
    }

    // What an MQTT target cannot be, said in one line before anything is taken.
    void mqttTargetProblems()
    {
        const QList<std::pair<QString, QString>> bad = {
            {QStringLiteral("mqtt://127.0.0.1:1883/"), QStringLiteral("needs a topic")},
            {QStringLiteral("mqtt://127.0.0.1:1883/a/+/b"), QStringLiteral("wildcard")},
            {QStringLiteral("mqtt://127.0.0.1:1883/a/#"), QStringLiteral("wildcard")},
            {QStringLiteral("mqtt://u:secret@127.0.0.1:1883/t"), QStringLiteral("secrets only come from files")},
        };
        checkTargetProblems(bad);
        checkBatchRefused(QUrl(QStringLiteral("mqtt://127.0.0.1:1883/t")));
        RelayerConfig signedOne;
        signedOne.targetUrl = QUrl(QStringLiteral("mqtt://127.0.0.1:1883/t"));
        signedOne.headers = {{"Authorization", "Bearer x"}};
        QVERIFY2(signedOne.problem().contains(QStringLiteral("headers and signatures are for HTTP targets")),
            qPrintable(signedOne.problem()));
        RelayerConfig fine;
        fine.targetUrl = QUrl(QStringLiteral("mqtts://broker.example:8883/a/b"));
        QCOMPARE(fine.problem(), QString());
    }

    // outboxctl receive --from subscribes to a broker and prints what arrives as it prints HTTP requests: each
    // event read back in full, in binary and structured mode; HTTP-only options are refused in one line.
    void outboxctlReceivesFromMqtt()
    {
        startBroker();
        QProcess receive;
        receive.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("receive"), QStringLiteral("--from"),
                QStringLiteral("mqtt://127.0.0.1:%1/shop/#").arg(m_port), QStringLiteral("--count"),
                QStringLiteral("3")});
        QVERIFY(receive.waitForStarted(5000));
        receive.setReadChannel(QProcess::StandardError);
        QElapsedTimer clock;
        clock.start();
        while (!receive.canReadLine() && clock.elapsed() < 10000)
            receive.waitForReadyRead(100);
        const QByteArray banner = receive.readLine();
        QVERIFY2(banner.contains("receiving CloudEvents from mqtt://"), banner.constData());
        // Subscribed once a probe event published with mosquitto_pub comes out (the first of the three).
        receive.setReadChannel(QProcess::StandardOutput);
        for (int i = 0; i < 40 && !receive.canReadLine(); ++i) {
            const QStringList props{QStringLiteral("specversion"), QStringLiteral("1.0"), QStringLiteral("id"),
                QStringLiteral("probe-%1").arg(i), QStringLiteral("type"), QStringLiteral("probe"),
                QStringLiteral("source"), QStringLiteral("/probe")};
            QStringList extra;
            for (qsizetype p = 0; p < props.size(); p += 2)
                extra << QStringLiteral("-D") << QStringLiteral("publish") << QStringLiteral("user-property")
                      << props.at(p) << props.at(p + 1);
            mosquittoPub(m_port, QStringLiteral("shop/probe"), QStringLiteral("{}"), extra);
            receive.waitForReadyRead(1000);
        }
        QVERIFY2(receive.readLine().contains("\"type\":\"probe\""), "the probe did not come out");
        SendEventOptions o;
        o.subject = QStringLiteral("order-7");
        o.extensions = QJsonObject{{QStringLiteral("tenant"), QStringLiteral("café")}};
        const QString binaryId = enqueue(QStringLiteral("com.example.binary"), "{\"n\":1}", o);
        Relayer binary(m_spec, config(QStringLiteral("shop/a")));
        QVERIFY(!binary.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
        binary.stop();
        const QString structuredId = enqueue(QStringLiteral("com.example.structured"), "{\"n\":2}");
        Relayer structured(m_spec, config(QStringLiteral("shop/b"), ContentMode::Structured));
        QVERIFY(!structured.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 2, 15000);
        structured.stop();
        if (receive.state() != QProcess::NotRunning)
            QVERIFY(receive.waitForFinished(15000)); // --count 3: it ends by itself
        QCOMPARE(receive.exitCode(), 0);
        QHash<QString, QJsonObject> lines;
        for (const QByteArray &line : receive.readAllStandardOutput().split('\n')) {
            if (!line.isEmpty()) {
                const QJsonObject o = QJsonDocument::fromJson(line).object();
                lines.insert(o.value(QStringLiteral("id")).toString(), o);
            }
        }
        const QJsonObject b = lines.value(binaryId);
        QCOMPARE(b.value(QStringLiteral("mode")).toString(), QStringLiteral("binary"));
        QVERIFY(b.value(QStringLiteral("valid")).toBool());
        QCOMPARE(b.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.binary"));
        QCOMPARE(b.value(QStringLiteral("subject")).toString(), QStringLiteral("order-7"));
        QCOMPARE(b.value(QStringLiteral("extensions")).toObject().value(QStringLiteral("tenant")).toString(),
            QStringLiteral("café"));
        QCOMPARE(b.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 1);
        const QJsonObject s = lines.value(structuredId);
        QCOMPARE(s.value(QStringLiteral("mode")).toString(), QStringLiteral("structured"));
        QVERIFY(s.value(QStringLiteral("valid")).toBool());
        QCOMPARE(s.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 2);

        QProcess refused;
        refused.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("receive"), QStringLiteral("--from"),
                QStringLiteral("mqtt://127.0.0.1:%1/shop").arg(m_port), QStringLiteral("--status"),
                QStringLiteral("503")});
        QVERIFY(refused.waitForFinished(10000));
        QCOMPARE(refused.exitCode(), 2);
        QCOMPARE(refused.readAllStandardError().trimmed().split('\n').size(), 1);
    }

    // MQTT's message ids are 16 bits: the client library gives id 1 again after 65,535 messages. A broker that
    // never acknowledges the first message: when its id comes round again, that event gets a retry (and is sent
    // the second time) instead of staying in flight for good; every event ends sent.
    void mqttMessageIdsComeRoundAgain()
    {
        WithholdingMqttBroker broker;
        const int n = 65537;
        enqueueBulk(n);
        const QString first =
            m_app->scalar(QStringLiteral("SELECT id FROM outbox_events ORDER BY seq LIMIT 1")).toString();
        RelayerConfig c = fastConfig(QUrl(QStringLiteral("mqtt://127.0.0.1:%1/shop/wrap").arg(broker.port())));
        c.requestTimeoutMs = 600000; // the withheld PUBACK is not what times out
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), n, 300000);
        relayer.stop();
        QCOMPARE(broker.published(), n + 1); // the first one twice
        const auto history = m_storage->attempts(first);
        QVERIFY(history.isOk());
        QVERIFY(!history->isEmpty());
        QVERIFY2(
            history->first().error.contains(QStringLiteral("came round again")), qPrintable(history->first().error));
    }

    // outboxctl relay takes an mqtt:// target like an http:// one.
    void outboxctlRelaysToMqtt()
    {
        startBroker();
        for (int i = 0; i < 5; ++i)
            enqueue(QStringLiteral("com.example.cli"), "{}");
        QProcess p;
        p.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("--db"), m_spec.toUrl(), QStringLiteral("relay"), QStringLiteral("--drain"),
                QStringLiteral("--target"), QStringLiteral("mqtt://127.0.0.1:%1/shop/cli").arg(m_port)});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 5);
    }
};

QTEST_GUILESS_MAIN(TestBrokers)
#include "tst_brokers.moc"
