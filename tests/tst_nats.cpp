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
#include "natskeys.h"

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

namespace {

// One message as the stream stores it.
struct Stored
{
    QString subject;
    QHash<QByteArray, QByteArray> headers; // by lower-case name
    QByteArray body;
};

// The stream's administration and contents through the NATS C client (what an operator's tool would do).
class JetStreamAdmin
{
public:
    explicit JetStreamAdmin(quint16 port, const QByteArray &token = {})
    {
        const QByteArray url = QStringLiteral("nats://127.0.0.1:%1").arg(port).toUtf8();
        natsOptions *opts = nullptr;
        natsOptions_Create(&opts);
        natsOptions_SetURL(opts, url.constData());
        if (!token.isEmpty())
            natsOptions_SetToken(opts, token.constData());
        if (natsConnection_Connect(&m_nc, opts) == NATS_OK)
            natsConnection_JetStream(&m_js, m_nc, nullptr);
        natsOptions_Destroy(opts);
    }
    ~JetStreamAdmin()
    {
        if (m_js)
            jsCtx_Destroy(m_js);
        if (m_nc)
            natsConnection_Destroy(m_nc);
    }
    // A file stream taking `subjects`; maxMsgs > 0: at most that many, new ones refused when full.
    bool addStream(const char *name, const char *subjects, int64_t maxMsgs = -1)
    {
        if (!m_js)
            return false;
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = name;
        const char *list[] = {subjects};
        cfg.Subjects = list;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.MaxMsgs = maxMsgs;
        cfg.Discard = js_DiscardNew;
        jsStreamInfo *si = nullptr;
        jsErrCode err = jsErrCode(0);
        const natsStatus s = js_AddStream(&si, m_js, &cfg, nullptr, &err);
        jsStreamInfo_Destroy(si);
        return s == NATS_OK;
    }
    qint64 count(const char *stream)
    {
        jsStreamInfo *si = nullptr;
        jsErrCode err = jsErrCode(0);
        if (!m_js || js_GetStreamInfo(&si, m_js, stream, nullptr, &err) != NATS_OK)
            return -1;
        const qint64 n = qint64(si->State.Msgs);
        jsStreamInfo_Destroy(si);
        return n;
    }
    bool purge(const char *stream)
    {
        jsErrCode err = jsErrCode(0);
        return m_js && js_PurgeStream(m_js, stream, nullptr, &err) == NATS_OK;
    }
    Stored get(const char *stream, quint64 seq)
    {
        Stored out;
        natsMsg *msg = nullptr;
        jsErrCode err = jsErrCode(0);
        if (!m_js || js_GetMsg(&msg, m_js, stream, seq, nullptr, &err) != NATS_OK)
            return out;
        out.subject = QString::fromUtf8(natsMsg_GetSubject(msg));
        out.body = QByteArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
        const char **keys = nullptr;
        int n = 0;
        if (natsMsgHeader_Keys(msg, &keys, &n) == NATS_OK) {
            for (int i = 0; i < n; ++i) {
                const char *value = nullptr;
                if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value)
                    out.headers.insert(QByteArray(keys[i]).toLower(), QByteArray(value));
            }
            free(static_cast<void *>(keys));
        }
        natsMsg_Destroy(msg);
        return out;
    }
    // A core NATS message with headers (a probe for a subscriber).
    void publish(const char *subject, const QList<std::pair<const char *, const char *>> &headers, const char *body)
    {
        natsMsg *msg = nullptr;
        if (!m_nc || natsMsg_Create(&msg, subject, nullptr, body, int(strlen(body))) != NATS_OK)
            return;
        for (const auto &[k, v] : headers)
            natsMsgHeader_Set(msg, k, v);
        natsConnection_PublishMsg(m_nc, msg);
        natsConnection_Flush(m_nc);
        natsMsg_Destroy(msg);
    }

private:
    natsConnection *m_nc = nullptr;
    jsCtx *m_js = nullptr;
};

} // namespace

class TestNats : public QObject, public BrokerTest
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_serverDir;
    quint16 m_port = 0;
    std::unique_ptr<NatsServer> m_server;

    RelayerConfig config(const QString &subject, ContentMode mode = ContentMode::Binary) const
    {
        return fastConfig(QUrl(QStringLiteral("nats://127.0.0.1:%1/%2").arg(m_port).arg(subject)), mode);
    }
    void startServer(int maxPayload = 0)
    {
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port, maxPayload);
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
    }

private Q_SLOTS:
    void initTestCase() { nats_Open(-1); }
    void init()
    {
        openOutbox();
        m_serverDir = std::make_unique<QTemporaryDir>();
        m_port = freePort();
    }
    void cleanup()
    {
        m_server.reset();
        closeOutbox();
    }

    // Binary mode: each event one message in the stream, every attribute (datacontenttype too) a ce- header
    // percent-encoded as the CloudEvents NATS binding says, Nats-Msg-Id its id, its data the body.
    void natsBinaryMode()
    {
        startServer();
        JetStreamAdmin admin(m_port);
        QVERIFY(admin.addStream("SHOP", "shop.>"));
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
        QVERIFY(admin.addStream("SHOP", "shop.>"));
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
        QVERIFY(admin.addStream("SHOP", "shop.>"));
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
        QVERIFY(admin.addStream("SHOP", "shop.>"));
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
        QVERIFY(admin.addStream("SHOP", "shop.>", 5));
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
            QVERIFY(admin.addStream("SHOP", "shop.>"));
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
            QVERIFY(admin.addStream("SHOP", "shop.>"));
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
        QVERIFY(admin.addStream("SDK", "sdk.>"));
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

    // A server that takes a token (authorization { token }): ?token-file= gives it, read by the engine under the
    // rule for every secret file. A wrong one holds the events, uncharged, the server unavailable; a user in
    // the URL beside a token file, or a file others can read, is refused before anything is taken.
    void natsTokenFile()
    {
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port);
        m_server->requireToken("s3cret-token");
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
        JetStreamAdmin admin(m_port, "s3cret-token");
        QVERIFY2(admin.addStream("AUTH", "auth.>"), qPrintable(m_server->log()));
        QTemporaryDir secrets;
        const QString tokenFile = secrets.filePath(QStringLiteral("nats-token"));
        auto writeToken = [&](const QByteArray &token, QFileDevice::Permissions permissions) {
            QFile f(tokenFile);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(token + '\n');
            f.close();
            QVERIFY(f.setPermissions(permissions));
        };
        const auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
        RelayerConfig c = config(QStringLiteral("auth.orders"));
        c.targetUrl = QUrl(QStringLiteral("nats://127.0.0.1:%1/auth.orders?token-file=%2").arg(m_port).arg(tokenFile));
        writeToken("s3cret-token", ownerOnly | QFileDevice::ReadOther);
        QVERIFY2(c.problem().contains(QStringLiteral("other users can read it")), qPrintable(c.problem()));
        RelayerConfig withUser = c;
        withUser.targetUrl =
            QUrl(QStringLiteral("nats://shop@127.0.0.1:%1/auth.orders?token-file=%2").arg(m_port).arg(tokenFile));
        writeToken("wrong-token", ownerOnly);
        QVERIFY2(withUser.problem().contains(QStringLiteral("takes no user")), qPrintable(withUser.problem()));
        QCOMPARE(c.problem(), QString());
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.auth"), "{}");
        // cnats, trying again on its own, gives no reason beyond "no server available".
        checkHeldUncharged(c, QStringLiteral("unavailable"), 3);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(admin.count("AUTH"), 0);
        writeToken("s3cret-token", ownerOnly);
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
        QCOMPARE(admin.count("AUTH"), 3);
    }

    // An NKey user (authorization { users = [{ nkey: U... }] }), the key made here with openssl: the URL's user is
    // the public key, ?nkey-seed-file= the seed, which the engine reads under the rule for every secret file and
    // the plug-in signs the server's nonce with. Another user's seed is refused by the server (the events held,
    // uncharged); a user that is not a public key is refused before anything is taken.
    void natsNkeySeedFile()
    {
        QTemporaryDir keys;
        QByteArray seed, publicKey, otherSeed, otherPublic;
        QVERIFY(makeNkeyUser(keys.path(), &seed, &publicKey));
        QVERIFY(makeNkeyUser(keys.path(), &otherSeed, &otherPublic));
        QVERIFY2(seed.startsWith("SU") && seed.size() == 58 && publicKey.startsWith('U') && publicKey.size() == 56,
            seed + ' ' + publicKey);
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port);
        m_server->requireNkeyUser(publicKey);
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
        const QString seedFile = keys.filePath(QStringLiteral("user.nk"));
        auto writeSeed = [&](const QByteArray &text) {
            QFile f(seedFile);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(text + '\n');
            f.close();
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        };
        writeSeed(seed);
        {
            natsOptions *opts = nullptr; // the stream, made by a client of the same user through cnats' own file
            natsOptions_Create(&opts);
            natsOptions_SetURL(opts, QStringLiteral("nats://127.0.0.1:%1").arg(m_port).toUtf8().constData());
            natsOptions_SetNKeyFromSeed(opts, publicKey.constData(), seedFile.toUtf8().constData());
            natsConnection *nc = nullptr;
            jsCtx *js = nullptr;
            QCOMPARE(natsConnection_Connect(&nc, opts), NATS_OK);
            natsOptions_Destroy(opts);
            QCOMPARE(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
            jsStreamConfig cfg;
            jsStreamConfig_Init(&cfg);
            cfg.Name = "KEYED";
            const char *subjects[] = {"keyed.>"};
            cfg.Subjects = subjects;
            cfg.SubjectsLen = 1;
            jsStreamInfo *si = nullptr;
            QCOMPARE(js_AddStream(&si, js, &cfg, nullptr, nullptr), NATS_OK);
            jsStreamInfo_Destroy(si);
            jsCtx_Destroy(js);
            natsConnection_Destroy(nc);
        }
        RelayerConfig c = config(QStringLiteral("keyed.orders"));
        c.targetUrl = QUrl(QStringLiteral("nats://%1@127.0.0.1:%2/keyed.orders?nkey-seed-file=%3")
                               .arg(QString::fromLatin1(publicKey))
                               .arg(m_port)
                               .arg(seedFile));
        QCOMPARE(c.problem(), QString());
        RelayerConfig notAKey = c;
        notAKey.targetUrl.setUserName(QStringLiteral("shop"));
        QVERIFY2(notAKey.problem().contains(QStringLiteral("public key")), qPrintable(notAKey.problem()));
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.keyed"), "{}");
        writeSeed(otherSeed);
        checkHeldUncharged(c, QStringLiteral("unavailable"), 3);
        if (QTest::currentTestFailed())
            return;
        writeSeed(seed);
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
    }

    // A server in operator mode (users are JWTs an account signed, the account one the operator signed, made here
    // as `nsc` makes them): ?creds-file= names the user's credentials file, read by the engine under the rule for
    // every secret file, the JWT handed to the server and the nonce signed with the seed. A user of an account the
    // server does not know is refused (the events held, uncharged); the right file sends them.
    void natsCredsFile()
    {
        QTemporaryDir keys;
        QByteArray operatorSeed, operatorPublic, accountSeed, accountPublic, userSeed, userPublic, strangerSeed,
            strangerPublic, otherSeed, otherPublic, systemSeed, systemPublic;
        QVERIFY(makeNkey(keys.path(), 'O', &operatorSeed, &operatorPublic));
        QVERIFY(makeNkey(keys.path(), 'A', &accountSeed, &accountPublic));
        QVERIFY(makeNkey(keys.path(), 'A', &strangerSeed, &strangerPublic));
        QVERIFY(makeNkey(keys.path(), 'A', &systemSeed, &systemPublic));
        QVERIFY(makeNkeyUser(keys.path(), &userSeed, &userPublic));
        QVERIFY(makeNkeyUser(keys.path(), &otherSeed, &otherPublic));
        const QJsonObject unlimited{{"subs", -1}, {"data", -1}, {"payload", -1}, {"imports", -1}, {"exports", -1},
            {"wildcards", true}, {"conn", -1}, {"leaf", -1}, {"mem_storage", -1}, {"disk_storage", -1}, {"streams", -1},
            {"consumer", -1}};
        const QJsonObject account{{"limits", unlimited}, {"type", "account"}, {"version", 2}};
        const QJsonObject user{{"pub", QJsonObject()}, {"sub", QJsonObject()}, {"subs", -1}, {"data", -1},
            {"payload", -1}, {"type", "user"}, {"version", 2}};
        const QString dir = keys.path();
        const QByteArray operatorJwt =
            natsJwt(dir, operatorPublic, QJsonObject{{"type", "operator"}, {"version", 2}}, operatorPublic);
        const QByteArray accountJwt = natsJwt(dir, accountPublic, account, operatorPublic);
        const QByteArray systemJwt =
            natsJwt(dir, systemPublic, QJsonObject{{"type", "account"}, {"version", 2}}, operatorPublic);
        const QByteArray userJwt = natsJwt(dir, userPublic, user, accountPublic);
        const QByteArray strangerJwt = natsJwt(dir, otherPublic, user, strangerPublic);
        QVERIFY(!operatorJwt.isEmpty() && !accountJwt.isEmpty() && !systemJwt.isEmpty() && !userJwt.isEmpty()
            && !strangerJwt.isEmpty());
        const QByteArray creds = natsCreds(userJwt, userSeed), strangerCreds = natsCreds(strangerJwt, otherSeed);
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port);
        m_server->useOperator(operatorJwt, {{systemPublic, systemJwt}, {accountPublic, accountJwt}});
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
        const QString credsFile = keys.filePath(QStringLiteral("relayer.creds"));
        auto writeCreds = [&](const QByteArray &text) {
            QFile f(credsFile);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(text);
            f.close();
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        };
        writeCreds(creds);
        {
            natsOptions *opts = nullptr; // the stream, made by a client of the same user through cnats' own reader
            natsOptions_Create(&opts);
            natsOptions_SetURL(opts, QStringLiteral("nats://127.0.0.1:%1").arg(m_port).toUtf8().constData());
            natsOptions_SetUserCredentialsFromFiles(opts, credsFile.toUtf8().constData(), nullptr);
            natsConnection *nc = nullptr;
            jsCtx *js = nullptr;
            const natsStatus connected = natsConnection_Connect(&nc, opts);
            natsOptions_Destroy(opts);
            QVERIFY2(connected == NATS_OK, qPrintable(m_server->log()));
            QCOMPARE(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
            jsStreamConfig cfg;
            jsStreamConfig_Init(&cfg);
            cfg.Name = "CREDS";
            const char *subjects[] = {"creds.>"};
            cfg.Subjects = subjects;
            cfg.SubjectsLen = 1;
            jsStreamInfo *si = nullptr;
            jsErrCode jerr = jsErrCode(0);
            const natsStatus added = js_AddStream(&si, js, &cfg, nullptr, &jerr);
            jsStreamInfo_Destroy(si);
            jsCtx_Destroy(js);
            natsConnection_Destroy(nc);
            QVERIFY2(added == NATS_OK,
                qPrintable(QStringLiteral("%1 (JetStream error %2)").arg(natsStatus_GetText(added)).arg(int(jerr))));
        }
        RelayerConfig c = config(QStringLiteral("creds.orders"));
        c.targetUrl = QUrl(QStringLiteral("nats://127.0.0.1:%1/creds.orders?creds-file=%2").arg(m_port).arg(credsFile));
        QCOMPARE(c.problem(), QString());
        RelayerConfig withUser = c;
        withUser.targetUrl.setUserName(QStringLiteral("shop"));
        QVERIFY2(withUser.problem().contains(QStringLiteral("takes no user")), qPrintable(withUser.problem()));
        RelayerConfig twice = c;
        twice.targetUrl.setQuery(twice.targetUrl.query() + QStringLiteral("&token-file=") + credsFile);
        QVERIFY2(twice.problem().contains(QStringLiteral("whole credential")), qPrintable(twice.problem()));
        writeCreds(userSeed + '\n');
        QVERIFY2(c.problem().contains(QStringLiteral("does not hold a user JWT")), qPrintable(c.problem()));
        for (int i = 0; i < 3; ++i)
            enqueue(QStringLiteral("com.example.creds"), "{}");
        writeCreds(strangerCreds);
        checkHeldUncharged(c, QStringLiteral("unavailable"), 3);
        if (QTest::currentTestFailed())
            return;
        writeCreds(creds);
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
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
        QVERIFY(admin.addStream("SHOP", "shop.>"));
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
