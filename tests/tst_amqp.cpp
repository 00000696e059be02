// SPDX-License-Identifier: MIT
// The AMQP 0-9-1 transport, through its plug-in, against a real RabbitMQ node (Debian's rabbitmq-server)
// started here on free loopback ports with a directory of its own. What the relayer published is read back
// from the queues with rabbitmq-c's basic.get (headers, properties, body).

#include "relayer.h"
#include "relayerconfig.h"
#include "sendevent.h"
#include "storage.h"
#include "brokerservers.h"
#include "brokertest.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <memory>

using namespace outbox;

namespace {

// One message as a consumer gets it.
struct Got
{
    QHash<QByteArray, QByteArray> headers;
    QByteArray contentType, messageId, body;
    int deliveryMode = 0;
};

QByteArray text(amqp_bytes_t b)
{
    return QByteArray(static_cast<const char *>(b.bytes), qsizetype(b.len));
}

amqp_bytes_t bytesOf(const char *s)
{
    return amqp_cstring_bytes(s);
}

// The broker's administration and contents through rabbitmq-c (what an operator's tool would do).
class Admin
{
public:
    explicit Admin(quint16 port)
    {
        m_conn = amqp_new_connection();
        amqp_socket_t *socket = amqp_tcp_socket_new(m_conn);
        if (amqp_socket_open(socket, "127.0.0.1", port) != AMQP_STATUS_OK)
            return;
        if (amqp_login(m_conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type
            != AMQP_RESPONSE_NORMAL)
            return;
        amqp_channel_open(m_conn, 1);
        m_ok = amqp_get_rpc_reply(m_conn).reply_type == AMQP_RESPONSE_NORMAL;
    }
    ~Admin()
    {
        if (m_ok) {
            amqp_channel_close(m_conn, 1, AMQP_REPLY_SUCCESS);
            amqp_connection_close(m_conn, AMQP_REPLY_SUCCESS);
        }
        amqp_destroy_connection(m_conn);
    }
    // A durable queue; maxLength > 0: at most that many messages, new ones refused (reject-publish).
    bool declare(const char *queue, int maxLength = 0)
    {
        if (!m_ok)
            return false;
        amqp_table_entry_t entries[2];
        amqp_table_t args{0, entries};
        if (maxLength > 0) {
            entries[0].key = bytesOf("x-max-length");
            entries[0].value.kind = AMQP_FIELD_KIND_I32;
            entries[0].value.value.i32 = maxLength;
            entries[1].key = bytesOf("x-overflow");
            entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
            entries[1].value.value.bytes = bytesOf("reject-publish");
            args.num_entries = 2;
        }
        amqp_queue_declare(m_conn, 1, bytesOf(queue), 0, 1, 0, 0, args);
        return amqp_get_rpc_reply(m_conn).reply_type == AMQP_RESPONSE_NORMAL;
    }
    bool purge(const char *queue)
    {
        amqp_queue_purge(m_conn, 1, bytesOf(queue));
        return amqp_get_rpc_reply(m_conn).reply_type == AMQP_RESPONSE_NORMAL;
    }
    // Takes up to `max` messages off the queue (acknowledged).
    QList<Got> take(const char *queue, int max)
    {
        QList<Got> out;
        while (m_ok && out.size() < max) {
            const amqp_rpc_reply_t r = amqp_basic_get(m_conn, 1, bytesOf(queue), 1);
            if (r.reply_type != AMQP_RESPONSE_NORMAL || r.reply.id != AMQP_BASIC_GET_OK_METHOD)
                break;
            amqp_message_t message;
            if (amqp_read_message(m_conn, 1, &message, 0).reply_type != AMQP_RESPONSE_NORMAL)
                break;
            Got g;
            g.body = text(message.body);
            const amqp_basic_properties_t &p = message.properties;
            if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
                g.contentType = text(p.content_type);
            if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
                g.messageId = text(p.message_id);
            if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
                g.deliveryMode = p.delivery_mode;
            if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
                for (int i = 0; i < p.headers.num_entries; ++i) {
                    const amqp_table_entry_t &e = p.headers.entries[i];
                    if (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES)
                        g.headers.insert(text(e.key), text(e.value.value.bytes));
                }
            }
            amqp_destroy_message(&message);
            amqp_maybe_release_buffers(m_conn);
            out.append(g);
        }
        return out;
    }

private:
    amqp_connection_state_t m_conn = nullptr;
    bool m_ok = false;
};

} // namespace

class TestAmqp : public QObject, public BrokerTest
{
    Q_OBJECT

    QTemporaryDir m_brokerDir;
    quint16 m_port = 0;
    std::unique_ptr<RabbitMq> m_broker;

    int attemptsSaying(const QString &words)
    {
        QSqlQuery q(m_app->db());
        q.prepare(QStringLiteral("SELECT COUNT(*) FROM outbox_attempts WHERE error LIKE ?"));
        q.addBindValue(QLatin1Char('%') + words + QLatin1Char('%'));
        return q.exec() && q.next() ? q.value(0).toInt() : -1;
    }
    RelayerConfig config(const QString &query, ContentMode mode = ContentMode::Binary) const
    {
        return fastConfig(QUrl(QStringLiteral("amqp://127.0.0.1:%1/?%2").arg(m_port).arg(query)), mode);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_port = freePort();
        m_broker = std::make_unique<RabbitMq>(m_brokerDir.path(), m_port);
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
    }
    void cleanupTestCase() { m_broker.reset(); }
    void init() { openOutbox(); }
    void cleanup() { closeOutbox(); }

    // Binary mode: each event one persistent message, every attribute a cloudEvents_ header, datacontenttype
    // the content_type property, message_id the event's id, the data the body.
    void amqpBinaryMode()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("orders"));
        QSet<QString> ids;
        for (int i = 0; i < 20; ++i) {
            SendEventOptions o;
            o.subject = QStringLiteral("order %1").arg(i);
            o.extensions = QJsonObject{{QStringLiteral("tenant"), QStringLiteral("café")}};
            ids.insert(enqueue(
                QStringLiteral("com.example.order.créé"), QByteArray("{\"n\":") + QByteArray::number(i) + "}", o));
        }
        Relayer relayer(m_spec, config(QStringLiteral("routing-key=orders")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 20, 15000);
        relayer.stop();
        const QList<Got> got = admin.take("orders", 100);
        QCOMPARE(got.size(), 20);
        QSet<QString> seen;
        for (const Got &g : got) {
            QCOMPARE(g.headers.value("cloudEvents_specversion"), QByteArray("1.0"));
            QCOMPARE(QString::fromUtf8(g.headers.value("cloudEvents_type")), QStringLiteral("com.example.order.créé"));
            QCOMPARE(g.headers.value("cloudEvents_source"), QByteArray("/shop"));
            QCOMPARE(QString::fromUtf8(g.headers.value("cloudEvents_tenant")), QStringLiteral("café"));
            QVERIFY(!g.headers.value("cloudEvents_time").isEmpty());
            QCOMPARE(g.contentType, QByteArray("application/json"));
            QCOMPARE(g.deliveryMode, 2);
            QCOMPARE(g.messageId, g.headers.value("cloudEvents_id"));
            const QByteArray n = g.headers.value("cloudEvents_subject").mid(6);
            QCOMPARE(g.body, QByteArray("{\"n\":") + n + "}");
            seen.insert(QString::fromUtf8(g.messageId));
        }
        QCOMPARE(seen, ids);
    }

    // Structured mode: the whole event as JSON, content_type application/cloudevents+json.
    void amqpStructuredMode()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("paid"));
        const QString id = enqueue(QStringLiteral("com.example.paid"), "{\"amount\":12.5}");
        Relayer relayer(m_spec, config(QStringLiteral("routing-key=paid"), ContentMode::Structured));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
        relayer.stop();
        const QList<Got> got = admin.take("paid", 10);
        QCOMPARE(got.size(), 1);
        QVERIFY(got.first().contentType.startsWith("application/cloudevents+json"));
        const QJsonObject event = QJsonDocument::fromJson(got.first().body).object();
        QCOMPARE(event.value(QStringLiteral("id")).toString(), id);
        QCOMPARE(event.value(QStringLiteral("data")).toObject().value(QStringLiteral("amount")).toDouble(), 12.5);
    }

    // Published with `mandatory` to an exchange where no queue is bound for the key: the broker returns it,
    // and the event fails with the broker's reason; to an exchange that does not exist: fails with 404.
    void amqpUnroutableAndMissingExchange()
    {
        enqueue(QStringLiteral("com.example.lost"), "{}");
        {
            Relayer relayer(m_spec, config(QStringLiteral("exchange=amq.direct&routing-key=nobody")));
            QVERIFY(!relayer.start());
            QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'failed'")), 1, 15000);
            relayer.stop();
        }
        QVERIFY2(lastError().contains(QStringLiteral("unroutable")) && lastError().contains(QStringLiteral("NO_ROUTE")),
            qPrintable(lastError()));
        enqueue(QStringLiteral("com.example.lost"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("exchange=no-such-exchange&routing-key=x")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'failed'")), 2, 15000);
        relayer.stop();
        QVERIFY2(lastError().contains(QStringLiteral("404")), qPrintable(lastError()));
    }

    // A queue full at 5 messages (overflow reject-publish): the broker nacks the rest, which wait without being
    // charged or failed; once the queue is emptied, they are sent. Nothing is lost.
    void amqpQueueFull()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("full", 5));
        for (int i = 0; i < 8; ++i)
            enqueue(QStringLiteral("com.example.full"), "{}");
        Relayer relayer(m_spec, config(QStringLiteral("routing-key=full")));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 5, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(lastError().contains(QStringLiteral("basic.nack")), 10000);
        QTest::qWait(1000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("status = 'pending'")), 3);
        QVERIFY(admin.purge("full"));
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 8, 30000);
        relayer.stop();
        QCOMPARE(admin.take("full", 10).size(), 3);
    }

    // The broker down when the relayer starts, then restarted in the middle of 3,000 events: nothing is charged
    // while it is away, nothing fails, and the durable queue holds every id (duplicates only from what was in
    // flight at the cut).
    void amqpBrokerDownAndRestarted()
    {
        {
            Admin admin(m_port);
            QVERIFY(admin.declare("bulk"));
        }
        m_broker->stop();
        const int n = 3000;
        enqueueBulk(n);
        RelayerConfig c = config(QStringLiteral("routing-key=bulk"));
        c.batchSize = 20;
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTest::qWait(2500);
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 0);
        QCOMPARE(count(QStringLiteral("attempts > 1")), 0);
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
        QTRY_VERIFY_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")) >= 200, 30000);
        m_broker->stop();
        const int sentAtCut = count(QStringLiteral("status = 'sent'"));
        QVERIFY2(m_broker->start(), qPrintable(m_broker->log()));
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), n, 90000);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        relayer.stop();
        QVERIFY2(sentAtCut < n, "the cut came after the relay had finished: nothing was tested");
        Admin admin(m_port);
        QSet<QByteArray> ids;
        const QList<Got> got = admin.take("bulk", 2 * n);
        for (const Got &g : got)
            ids.insert(g.messageId);
        QCOMPARE(ids.size(), n);
        QVERIFY2(got.size() - n <= 200, qPrintable(QStringLiteral("%1 duplicates").arg(got.size() - n)));
    }

    void amqpReadByAnotherClient_data() { addModeRows(); }

    // amqplib (npm, not ours) consumes the queue; the CloudEvents JavaScript SDK, which has no AMQP binding,
    // reads each event from the cloudEvents_ headers and content_type given to its HTTP binding: every
    // attribute, extension and the data (JSON, text, bytes).
    void amqpReadByAnotherClient()
    {
        QFETCH(int, mode);
        if (!haveNode())
            QSKIP("node is not installed (packaging/install-deps.sh installs it)");
        QVERIFY2(QFile::exists(QStringLiteral(CONFORMANCE_DIR "/node_modules/amqplib/package.json")),
            "the conformance_npm fixture did not install the npm packages");
        const QByteArray queue = "sdk-" + QByteArray::number(mode);
        Admin admin(m_port);
        QVERIFY(admin.declare(queue.constData()));
        const QString subject = QStringLiteral("orders/42");
        const SdkEvents e = enqueueSdkEvents(subject);
        Relayer relayer(m_spec, config(QStringLiteral("routing-key=") + QString::fromLatin1(queue), ContentMode(mode)));
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
        QProcess sdk;
        sdk.start(QStringLiteral("node"),
            {QStringLiteral(CONFORMANCE_DIR "/conformance.js"), QStringLiteral("amqp-receive"),
                QStringLiteral("amqp://guest:guest@127.0.0.1:%1").arg(m_port), QString::fromLatin1(queue)});
        QVERIFY(sdk.waitForStarted(10000));
        const QHash<QString, QJsonObject> read = readSdkLines(
            sdk, 3, 20000, [](const QJsonObject &line) { return line.value(QStringLiteral("messageId")).toString(); });
        QVERIFY2(read.size() >= 3, qPrintable(QStringLiteral("the SDK read %1 of 3 events").arg(read.size())));
        sdk.kill();
        sdk.waitForFinished(5000);
        const bool structured = ContentMode(mode) == ContentMode::Structured;
        for (const QJsonObject &line : std::as_const(read)) {
            QVERIFY2(line.value(QStringLiteral("ok")).toBool(), QJsonDocument(line).toJson().constData());
            QCOMPARE(line.value(QStringLiteral("deliveryMode")).toInt(), 2);
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

    // A user of RabbitMQ's own (rabbitmqctl add_user), the password from ?password-file=, which the engine reads
    // under the rule for every secret file. A wrong password: the broker's refusal is the events' error, and
    // they wait, uncharged, until the file is put right.
    void amqpUserWithPasswordFile()
    {
        const QString added = m_broker->addUser(QStringLiteral("shop"), QStringLiteral("s3cret pass"));
        QVERIFY2(added.isEmpty(), qPrintable(added));
        Admin admin(m_port);
        QVERIFY(admin.declare("auth"));
        QTemporaryDir secrets;
        const QString passwordFile = secrets.filePath(QStringLiteral("amqp-password"));
        auto writePassword = [&](const QByteArray &password) {
            QFile f(passwordFile);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(password + '\n');
            f.close();
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        };
        writePassword("wrong pass");
        RelayerConfig c = config(QStringLiteral("routing-key=auth"));
        c.targetUrl = QUrl(QStringLiteral("amqp://shop@127.0.0.1:%1/?routing-key=auth&password-file=%2")
                               .arg(m_port)
                               .arg(passwordFile));
        QCOMPARE(c.problem(), QString());
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.auth"), "{}");
        checkHeldUncharged(c, QStringLiteral("ACCESS_REFUSED"), 3);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(admin.take("auth", 10).isEmpty());
        writePassword("s3cret pass");
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
        QCOMPARE(admin.take("auth", 10).size(), 3);
    }

    // The broker frozen (SIGSTOP) under an open connection: TCP stays up and says nothing. With heartbeats of
    // 1 s (and a confirm timeout of a minute, so that is not what notices) the relayer leaves the connection
    // within seconds, holds the events uncharged with the reason, does not hang on the frozen node when it tries
    // again, and sends everything once the node goes on.
    void amqpFrozenBrokerIsNoticed()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("frozen"));
        RelayerConfig c = config(QStringLiteral("routing-key=frozen&heartbeat=1"));
        c.requestTimeoutMs = 60000;
        enqueue(QStringLiteral("com.example.frozen"), "{}");
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
        QTest::qWait(3000); // idle for three heartbeats: the connection is kept (we send ours)
        enqueue(QStringLiteral("com.example.frozen"), "{}");
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 2, 5000);
        QCOMPARE(lastError(), QString());
        m_broker->signal(SIGSTOP);
        QElapsedTimer frozen;
        frozen.start();
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.frozen"), "{}");
        QTRY_VERIFY_WITH_TIMEOUT(lastError().contains(QStringLiteral("heartbeat")), 15000);
        const qint64 noticedMs = frozen.elapsed();
        QTest::qWait(6000); // reconnecting to the frozen node meanwhile
        m_broker->signal(SIGCONT);
        QVERIFY2(noticedMs < 8000, qPrintable(QStringLiteral("noticed after %1 ms").arg(noticedMs)));
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("attempts > 1")), 0);
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 5, 30000);
        QElapsedTimer stopping;
        stopping.start();
        relayer.stop();
        QVERIFY(stopping.elapsed() < 5000);
        QSet<QByteArray> ids;
        for (const Got &g : admin.take("frozen", 20))
            ids.insert(g.messageId);
        QCOMPARE(ids.size(), 5);
    }

    // The broker frozen while more than the socket buffers hold is being written to it (events of 6 MiB):
    // rabbitmq-c's write alone would wait for ever, and the relayer's stop with it. Without heartbeats, so only
    // the write's own guard can notice: the relayer gives the write up once the broker has taken no data for its
    // timeout, holds the events uncharged with that reason, stops at once although the node is still frozen, and
    // a relayer started once the node goes on sends every event.
    void amqpFrozenWhileWritingLargeEvents()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("frozen-large"));
        RelayerConfig c = config(QStringLiteral("routing-key=frozen-large&heartbeat=0"));
        c.requestTimeoutMs = 2000;
        const QByteArray large = '"' + QByteArray(6 << 20, 'x') + '"';
        {
            Relayer relayer(m_spec, c);
            QVERIFY(!relayer.start());
            enqueue(QStringLiteral("com.example.small"), "{}");
            QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 1, 15000);
            m_broker->signal(SIGSTOP);
            auto resume = qScopeGuard([this] { m_broker->signal(SIGCONT); });
            QSqlDatabase db = m_app->db();
            QVERIFY(db.transaction());
            for (int i = 0; i < 3; ++i)
                enqueue(QStringLiteral("com.example.large"), large);
            QVERIFY(db.commit());
            // The events it was writing: back to pending, their attempt in the history with the reason.
            QTRY_VERIFY2_WITH_TIMEOUT(
                attemptsSaying(QStringLiteral("took no data for 2000 ms")) > 0, qPrintable(lastError()), 20000);
            QElapsedTimer stopping;
            stopping.start();
            relayer.stop();
            QVERIFY2(stopping.elapsed() < 8000, qPrintable(QStringLiteral("stop took %1 ms").arg(stopping.elapsed())));
        }
        m_broker->signal(SIGCONT);
        QCOMPARE(count(QStringLiteral("status = 'failed'")), 0);
        QCOMPARE(count(QStringLiteral("attempts > 1")), 0);
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 4, 60000);
        relayer.stop();
        QSet<QByteArray> ids;
        for (const Got &g : admin.take("frozen-large", 100)) {
            QVERIFY(g.body == large || g.body == "{}");
            ids.insert(g.messageId);
        }
        QCOMPARE(ids.size(), 4);
    }

    // What an AMQP target cannot be, said in one line before anything is taken.
    void amqpTargetProblems()
    {
        const QList<std::pair<QString, QString>> bad = {
            {QStringLiteral("amqp://127.0.0.1:5672/"), QStringLiteral("needs ?exchange= or ?routing-key=")},
            {QStringLiteral("amqp://u:secret@127.0.0.1:5672/?routing-key=q"),
                QStringLiteral("secrets only come from files")},
            {QStringLiteral("amqp://127.0.0.1:5672/?routing-key=q&durable=1"),
                QStringLiteral("'durable' is not known")},
            {QStringLiteral("amqp://127.0.0.1:5672/?routing-key=q&heartbeat=soon"),
                QStringLiteral("?heartbeat= is a number of seconds")},
        };
        checkTargetProblems(bad);
        RelayerConfig fine;
        fine.targetUrl =
            QUrl(QStringLiteral("amqps://shop@rabbit.example/prod?exchange=events&routing-key=orders.created"));
        QCOMPARE(fine.problem(), QString());
    }

    // outboxctl receive --from amqp:// binds a queue of its own to an exchange and prints what arrives, the
    // attributes read back from the cloudEvents_ headers.
    void outboxctlReceivesFromAmqp()
    {
        QProcess receive;
        receive.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("receive"), QStringLiteral("--from"),
                QStringLiteral("amqp://127.0.0.1:%1/?exchange=amq.topic&routing-key=shop.%23").arg(m_port),
                QStringLiteral("--count"), QStringLiteral("1")});
        QVERIFY(receive.waitForStarted(5000));
        SendEventOptions o;
        o.subject = QStringLiteral("order 7");
        o.extensions = QJsonObject{{QStringLiteral("tenant"), QStringLiteral("café")}};
        // Bound once an event relayed to the exchange comes out (until then it is unroutable and fails).
        QElapsedTimer clock;
        clock.start();
        while (!receive.canReadLine() && clock.elapsed() < 20000 && receive.state() == QProcess::Running) {
            enqueue(QStringLiteral("com.example.binary"), "{\"n\":1}", o);
            Relayer relayer(m_spec, config(QStringLiteral("exchange=amq.topic&routing-key=shop.orders")));
            QVERIFY(!relayer.start());
            QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'pending'")), 0, 15000);
            relayer.stop();
            receive.waitForReadyRead(500);
        }
        receive.waitForFinished(15000);
        const QByteArray out = receive.readAllStandardOutput();
        QVERIFY2(receive.state() == QProcess::NotRunning, (out + receive.readAllStandardError()).constData());
        QCOMPARE(receive.exitCode(), 0);
        const QJsonObject b = QJsonDocument::fromJson(out.split('\n').first()).object();
        QCOMPARE(b.value(QStringLiteral("mode")).toString(), QStringLiteral("binary"));
        QVERIFY(b.value(QStringLiteral("valid")).toBool());
        QCOMPARE(b.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.binary"));
        QCOMPARE(b.value(QStringLiteral("subject")).toString(), QStringLiteral("order 7"));
        QCOMPARE(b.value(QStringLiteral("extensions")).toObject().value(QStringLiteral("tenant")).toString(),
            QStringLiteral("café"));
        QCOMPARE(b.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 1);
    }

    // outboxctl relay takes an amqp:// target like an http:// one.
    void outboxctlRelaysToAmqp()
    {
        Admin admin(m_port);
        QVERIFY(admin.declare("cli"));
        for (int i = 0; i < 5; ++i)
            enqueue(QStringLiteral("com.example.cli"), "{}");
        QProcess p;
        p.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("--db"), m_spec.toUrl(), QStringLiteral("relay"), QStringLiteral("--drain"),
                QStringLiteral("--target"), QStringLiteral("amqp://127.0.0.1:%1/?routing-key=cli").arg(m_port)});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(count(QStringLiteral("status = 'sent'")), 5);
        QCOMPARE(admin.take("cli", 10).size(), 5);
    }
};

QTEST_GUILESS_MAIN(TestAmqp)
#include "tst_amqp.moc"
