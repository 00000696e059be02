// SPDX-License-Identifier: MIT
// Credentials for the NATS JetStream transport against a real nats-server started here: a token, an NKey user and
// a user of a server in operator mode, each from a file the engine reads; a wrong one holds the events.

#include "natskeys.h"
#include "natstest.h"

#include <QTest>

#include <functional>

using namespace outbox;

class TestNatsAuth : public QObject, public NatsTest
{
    Q_OBJECT

    // Three events of `type`; with the wrong credential written they are held, uncharged, the server refusing
    // the relayer (cnats says only that no server is available); with the right one they are all sent.
    void heldThenSent(const RelayerConfig &c, const QString &type, const std::function<void()> &writeWrong,
        const std::function<void()> &writeRight)
    {
        for (int i = 0; i < 3; ++i)
            enqueue(type, "{}");
        writeWrong();
        checkHeldUncharged(c, QStringLiteral("unavailable"), 3);
        if (QTest::currentTestFailed())
            return;
        writeRight();
        Relayer relayer(m_spec, c);
        QVERIFY(!relayer.start());
        QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("status = 'sent'")), 3, 15000);
        relayer.stop();
    }

private Q_SLOTS:
    void initTestCase() { nats_Open(-1); }
    void init() { openFixture(); }
    void cleanup() { closeFixture(); }

    // A server that takes a token (authorization { token }): ?token-file= gives it, read by the engine under the
    // rule for every secret file. A wrong one holds the events, uncharged, the server unavailable; a user in
    // the URL beside a token file, or a file others can read, is refused before anything is taken.
    void natsTokenFile()
    {
        m_server = std::make_unique<NatsServer>(m_serverDir->path(), m_port);
        m_server->requireToken("s3cret-token");
        QVERIFY2(m_server->start(), qPrintable(m_server->log()));
        JetStreamAdmin admin(m_port, [](natsOptions *o) { natsOptions_SetToken(o, "s3cret-token"); });
        QVERIFY2(
            admin.addStream("AUTH", "auth.>"), qPrintable(admin.lastError() + QLatin1Char('\n') + m_server->log()));
        QTemporaryDir secrets;
        const QString tokenFile = secrets.filePath(QStringLiteral("nats-token"));
        auto writeToken = [&](const QByteArray &token, QFileDevice::Permissions permissions) {
            writeSecret(tokenFile, token + '\n', permissions);
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
        auto writeSeed = [&](const QByteArray &text) { writeSecret(seedFile, text + '\n'); };
        writeSeed(seed);
        // The stream, made by a client of the same user through cnats' own reader of the file.
        JetStreamAdmin admin(m_port, [&](natsOptions *o) {
            natsOptions_SetNKeyFromSeed(o, publicKey.constData(), seedFile.toUtf8().constData());
        });
        QVERIFY2(
            admin.addStream("KEYED", "keyed.>"), qPrintable(admin.lastError() + QLatin1Char('\n') + m_server->log()));
        RelayerConfig c = config(QStringLiteral("keyed.orders"));
        c.targetUrl = QUrl(QStringLiteral("nats://%1@127.0.0.1:%2/keyed.orders?nkey-seed-file=%3")
                               .arg(QString::fromLatin1(publicKey))
                               .arg(m_port)
                               .arg(seedFile));
        QCOMPARE(c.problem(), QString());
        RelayerConfig notAKey = c;
        notAKey.targetUrl.setUserName(QStringLiteral("shop"));
        QVERIFY2(notAKey.problem().contains(QStringLiteral("public key")), qPrintable(notAKey.problem()));
        heldThenSent(
            c, QStringLiteral("com.example.keyed"), [&] { writeSeed(otherSeed); }, [&] { writeSeed(seed); });
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
        auto writeCreds = [&](const QByteArray &text) { writeSecret(credsFile, text); };
        writeCreds(creds);
        // The stream, made by a client of the same user through cnats' own reader of the same file.
        JetStreamAdmin admin(m_port, [&](natsOptions *o) {
            natsOptions_SetUserCredentialsFromFiles(o, credsFile.toUtf8().constData(), nullptr);
        });
        QVERIFY2(
            admin.addStream("CREDS", "creds.>"), qPrintable(admin.lastError() + QLatin1Char('\n') + m_server->log()));
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
        heldThenSent(
            c, QStringLiteral("com.example.creds"), [&] { writeCreds(strangerCreds); }, [&] { writeCreds(creds); });
    }
};

QTEST_GUILESS_MAIN(TestNatsAuth)
#include "tst_nats_auth.moc"
