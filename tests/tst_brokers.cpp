// SPDX-License-Identifier: MIT
// Broker transports, through their plug-ins, against real brokers started here on free loopback ports, and read
// back by clients we did not write. MQTT: Eclipse mosquitto (the broker, and mosquitto_sub as the consumer).

#include "relayer.h"
#include "relayerconfig.h"
#include "sendevent.h"
#include "storage.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace outbox;
using testsupport::AppConnection;

namespace {

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost);
    return s.serverPort();
}

// A mosquitto broker of its own: MQTT 5 on 127.0.0.1:port, anonymous, messages kept across a restart (so a
// durable subscriber misses nothing while the broker is away).
class Mosquitto
{
public:
    Mosquitto(const QString &dir, quint16 port) : m_dir(dir), m_port(port) { }
    ~Mosquitto() { stop(); }

    bool start()
    {
        QFile conf(m_dir + QStringLiteral("/mosquitto.conf"));
        if (!conf.open(QIODevice::WriteOnly))
            return false;
        conf.write(QStringLiteral("listener %1 127.0.0.1\nallow_anonymous true\npersistence true\n"
                                  "persistence_location %2/\nautosave_interval 1\n")
                       .arg(m_port)
                       .arg(m_dir)
                       .toUtf8());
        conf.close();
        // Run as root, mosquitto drops to its own user: it must read the file and write the directory.
        conf.setPermissions(conf.permissions() | QFileDevice::ReadOther);
        QFile::setPermissions(m_dir, QFileDevice::Permissions(0x7777));
        m_process.setProgram(
            QStandardPaths::findExecutable(QStringLiteral("mosquitto"), {QStringLiteral("/usr/sbin")}));
        m_process.setArguments({QStringLiteral("-c"), conf.fileName()});
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start();
        if (!m_process.waitForStarted(5000))
            return false;
        for (int i = 0; i < 100; ++i) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_port);
            if (probe.waitForConnected(100))
                return true;
            QTest::qWait(50);
        }
        return false;
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate(); // SIGTERM: mosquitto saves its messages and ends
        if (!m_process.waitForFinished(10000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    QString log() { return QString::fromUtf8(m_process.readAll()); }

private:
    QString m_dir;
    quint16 m_port;
    QProcess m_process;
};

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
    bool started() { return m_process.waitForStarted(5000); }
    // Every message received so far.
    QList<QJsonObject> messages()
    {
        m_buffer += m_process.readAllStandardOutput();
        QList<QJsonObject> out;
        for (const QByteArray &line : m_buffer.split('\n')) {
            if (!line.trimmed().isEmpty())
                out.append(QJsonDocument::fromJson(line).object());
        }
        return out;
    }

private:
    QProcess m_process;
    QByteArray m_buffer;
};

} // namespace

class TestBrokers : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    std::unique_ptr<AppConnection> m_app;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<QTemporaryDir> m_brokerDir;
    quint16 m_port = 0;
    std::unique_ptr<Mosquitto> m_broker;

    QString enqueue(const QString &type, const QByteArray &data, const SendEventOptions &o = {})
    {
        QSqlDatabase db = m_app->db();
        auto id = sendEventTransactional(db, type, QStringLiteral("/shop"), data, o);
        if (!id.isOk())
            qFatal("enqueue: %s", qPrintable(id.error().message()));
        return *id;
    }
    int count(const QString &where)
    {
        QSqlQuery q(m_app->db());
        q.exec(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE ") + where);
        return q.next() ? q.value(0).toInt() : -1;
    }
    RelayerConfig config(const QString &topic, ContentMode mode = ContentMode::Binary) const
    {
        RelayerConfig c;
        c.targetUrl = QUrl(QStringLiteral("mqtt://127.0.0.1:%1/%2").arg(m_port).arg(topic));
        c.contentMode = mode;
        c.pollIntervalMs = 50;
        c.maxIdleBackoffMs = 200;
        c.retryBackoffMs = 50;
        c.requestTimeoutMs = 5000;
        return c;
    }
    void startBroker()
    {
        m_broker = std::make_unique<Mosquitto>(m_brokerDir->path(), m_port);
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_spec);
        m_app = std::make_unique<AppConnection>(m_spec);
        m_brokerDir = std::make_unique<QTemporaryDir>();
        m_port = freePort();
    }
    void cleanup()
    {
        m_broker.reset();
        m_app.reset();
        m_storage.reset();
    }

    // Binary mode: each event is one MQTT 5 message with QoS 1, its attributes as user properties and its
    // content type as the content-type property, its data as the payload, exactly as mosquitto_sub reads it.
    void mqttBinaryMode()
    {
        startBroker();
        Subscriber sub(m_port, QStringLiteral("shop/#"));
        QVERIFY(sub.started());
        QTest::qWait(300); // subscribed
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
        QVERIFY(sub.started());
        QTest::qWait(300);
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
        QVERIFY(sub->started());
        QTest::qWait(300);
        const int n = 3000;
        QSet<QString> ids;
        {
            QSqlDatabase db = m_app->db();
            QVERIFY(db.transaction());
            for (int i = 0; i < n; ++i)
                ids.insert(*sendEventTransactional(db, QStringLiteral("com.example.bulk"), QStringLiteral("/shop"),
                    QByteArray("{\"i\":") + QByteArray::number(i) + "}"));
            QVERIFY(db.commit());
        }
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

    // What an MQTT target cannot be, said in one line before anything is taken.
    void mqttTargetProblems()
    {
        const QList<std::pair<QString, QString>> bad = {
            {QStringLiteral("mqtt://127.0.0.1:1883/"), QStringLiteral("needs a topic")},
            {QStringLiteral("mqtt://127.0.0.1:1883/a/+/b"), QStringLiteral("wildcard")},
            {QStringLiteral("mqtt://u:secret@127.0.0.1:1883/t"), QStringLiteral("secrets only come from files")},
        };
        for (const auto &[url, expected] : bad) {
            RelayerConfig c;
            c.targetUrl = QUrl(url);
            QVERIFY2(c.problem().contains(expected), qPrintable(url + QStringLiteral(": ") + c.problem()));
        }
        RelayerConfig batched;
        batched.targetUrl = QUrl(QStringLiteral("mqtt://127.0.0.1:1883/t"));
        batched.contentMode = ContentMode::Batch;
        QVERIFY2(batched.problem().contains(QStringLiteral("batched mode is for HTTP targets")),
            qPrintable(batched.problem()));
        RelayerConfig signedOne;
        signedOne.targetUrl = QUrl(QStringLiteral("mqtt://127.0.0.1:1883/t"));
        signedOne.headers = {{"Authorization", "Bearer x"}};
        QVERIFY2(signedOne.problem().contains(QStringLiteral("headers and signatures are for HTTP targets")),
            qPrintable(signedOne.problem()));
        RelayerConfig fine;
        fine.targetUrl = QUrl(QStringLiteral("mqtts://broker.example:8883/a/b"));
        QCOMPARE(fine.problem(), QString());
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
