// SPDX-License-Identifier: MIT
// Conformance with an independent CloudEvents implementation, the CloudEvents JavaScript SDK
// (tests/conformance/conformance.js): what our relayer sends in each content mode is read by the SDK with
// the same attributes and data, and what the SDK sends is read by our receiver.

#include "receiver.h"
#include "relayer.h"
#include "sendevent.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

using namespace outbox;

class TestConformance : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    static QString script() { return QStringLiteral(CONFORMANCE_DIR "/conformance.js"); }

    // The three kinds of payload: JSON with every optional attribute, text, bytes.
    static QList<OutboxEvent> samples()
    {
        OutboxEvent json;
        json.id = QStringLiteral("ours-json");
        json.type = QStringLiteral("com.example.order.created");
        json.source = QStringLiteral("/shop/orders");
        json.subject = QStringLiteral("orders/42");
        json.contentType = QStringLiteral("application/json");
        json.data =
            QJsonDocument(QJsonObject{{"order", 42}, {"lines", QJsonArray{QJsonObject{{"sku", "A-1"}, {"qty", 2}}}},
                              {"note",
                                  QString::fromUtf8("\xc3\xbc"
                                                    "n"
                                                    "\xc3\xaf"
                                                    "code \"quoted\"")}})
                .toJson(QJsonDocument::Compact);
        json.extensions.insert(
            QStringLiteral("traceparent"), QStringLiteral("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        json.extensions.insert(QStringLiteral("tenant"), QStringLiteral("acme"));
        OutboxEvent text = json;
        text.id = QStringLiteral("ours-text");
        text.subject.clear();
        text.extensions = {};
        text.contentType = QStringLiteral("text/plain");
        text.data = "plain text, with \"quotes\"";
        OutboxEvent bytes = text;
        bytes.id = QStringLiteral("ours-bytes");
        bytes.contentType = QStringLiteral("application/octet-stream");
        bytes.data = QByteArray("\x00\x01\xfe\xff", 4);
        return {json, text, bytes};
    }

    static bool haveNode()
    {
        QProcess p;
        p.start(QStringLiteral("node"), {QStringLiteral("--version")});
        return p.waitForFinished(10000) && p.exitCode() == 0;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!haveNode())
            QSKIP("node is not installed (packaging/install-deps.sh installs it)");
        QVERIFY2(QFile::exists(QStringLiteral(CONFORMANCE_DIR "/node_modules/cloudevents/package.json")),
            "the conformance_npm fixture did not install the CloudEvents SDK");
    }

    void ourSenderIsReadByTheSdk_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("withSignature");
        QTest::newRow("binary") << int(ContentMode::Binary) << false;
        QTest::newRow("structured") << int(ContentMode::Structured) << false;
        QTest::newRow("batch") << int(ContentMode::Batch) << false;
        // Standard Webhooks signatures, verified by the npm standardwebhooks package.
        QTest::newRow("binary, signed") << int(ContentMode::Binary) << true;
        QTest::newRow("structured, signed") << int(ContentMode::Structured) << true;
        QTest::newRow("batch, signed") << int(ContentMode::Batch) << true;
    }

    void ourSenderIsReadByTheSdk()
    {
        QFETCH(int, mode);
        QFETCH(bool, withSignature);
        const QByteArray secret = "whsec_" + QByteArray("a key of 24 random bytes!").toBase64();
        QProcess sdk;
        sdk.start(QStringLiteral("node"),
            {script(), QStringLiteral("receive"), withSignature ? QString::fromLatin1(secret) : QString()});
        QVERIFY(sdk.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(sdk.canReadLine(), 10000);
        const QByteArray banner = sdk.readLine().trimmed();
        QVERIFY2(banner.startsWith("listening "), banner.constData());
        const QString url = QStringLiteral("http://127.0.0.1:%1/").arg(QString::fromLatin1(banner.mid(10)));

        const ConnectionSpec spec = testsupport::freshOutbox(m_dir);
        testsupport::AppConnection app(spec);
        QSqlDatabase db = app.db();
        for (const OutboxEvent &e : samples()) {
            SendEventOptions o;
            o.eventId = e.id;
            o.subject = e.subject;
            o.contentType = e.contentType;
            o.extensions = e.extensions;
            QVERIFY(sendEventTransactional(db, e.type, e.source, e.data, o).isOk());
        }
        RelayerConfig config;
        config.targetUrl = QUrl(url);
        config.contentMode = ContentMode(mode);
        if (withSignature)
            config.signingSecret = secret;
        Relayer relayer(spec, config);
        while (relayer.relayOnce().processed > 0) { }
        auto storage = testsupport::openStorage(spec);
        QCOMPARE(storage->stats()->sent, 3); // the SDK accepted all three (202)

        QHash<QString, QJsonObject> seen;
        while (seen.size() < 3 && (sdk.canReadLine() || sdk.waitForReadyRead(5000))) {
            const QJsonObject line = QJsonDocument::fromJson(sdk.readLine()).object();
            QVERIFY2(line.value("ok").toBool(), qPrintable(line.value("error").toString()));
            const QJsonObject e = line.value("event").toObject();
            QCOMPARE(line.value("signature").toString(), withSignature ? QStringLiteral("verified") : QString());
            seen.insert(e.value("id").toString(), e);
        }
        sdk.kill();
        sdk.waitForFinished();
        QCOMPARE(seen.size(), 3);
        for (const OutboxEvent &sent : samples()) {
            const QJsonObject got = seen.value(sent.id);
            QCOMPARE(got.value("specversion").toString(), QStringLiteral("1.0"));
            QCOMPARE(got.value("type").toString(), sent.type);
            QCOMPARE(got.value("source").toString(), sent.source);
            QCOMPARE(got.value("subject").toString(), sent.subject);
            QCOMPARE(got.value("datacontenttype").toString().section(';', 0, 0), sent.contentType);
            QCOMPARE(QDateTime::fromString(got.value("time").toString(), Qt::ISODateWithMs).toUTC(),
                storage->event(sent.id)->createdAt);
            for (auto it = sent.extensions.constBegin(); it != sent.extensions.constEnd(); ++it)
                QCOMPARE(got.value(it.key()).toString(), it.value().toString());
            const QJsonValue data = got.value("data");
            if (sent.contentType == QLatin1String("application/json"))
                QCOMPARE(data.toObject(), QJsonDocument::fromJson(sent.data).object());
            else if (sent.contentType == QLatin1String("text/plain"))
                QCOMPARE(data.toString(), QString::fromUtf8(sent.data));
            else
                QCOMPARE(QByteArray::fromBase64(data.toObject().value("base64").toString().toLatin1()), sent.data);
        }
    }

    void sdkEventsAreReadByOurReceiver()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        QProcess sdk;
        sdk.start(QStringLiteral("node"), {script(), QStringLiteral("emit"), receiver.url().toString()});
        QVERIFY(sdk.waitForFinished(30000));
        QCOMPARE(sdk.exitCode(), 0);
        const QList<QByteArray> lines = sdk.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 6); // three events, two modes
        const QList<ReceivedRequest> requests = receiver.requests();
        QCOMPARE(requests.size(), 6);
        for (int i = 0; i < lines.size(); ++i) {
            const QJsonObject sent = QJsonDocument::fromJson(lines.at(i)).object();
            const QJsonObject e = sent.value("event").toObject();
            QCOMPARE(sent.value("status").toInt(), 200); // our receiver accepted it
            const ReceivedRequest &r = requests.at(i);
            QCOMPARE(contentModeName(r.decoded.mode), sent.value("mode").toString());
            QCOMPARE(r.decoded.events.size(), 1);
            const ReceivedEvent &got = r.decoded.events.first();
            QVERIFY2(got.isValid(), qPrintable(got.problems.join("; ")));
            QCOMPARE(got.event.id, e.value("id").toString());
            QCOMPARE(got.event.type, e.value("type").toString());
            QCOMPARE(got.event.source, e.value("source").toString());
            QCOMPARE(got.event.subject, e.value("subject").toString());
            QCOMPARE(got.event.contentType.section(';', 0, 0), e.value("datacontenttype").toString());
            if (e.contains("traceparent"))
                QCOMPARE(got.event.extensions.value("traceparent").toString(), e.value("traceparent").toString());
            const QJsonValue data = e.value("data");
            if (data.isObject() && data.toObject().contains("base64"))
                QCOMPARE(got.event.data, QByteArray::fromBase64(data.toObject().value("base64").toString().toLatin1()));
            else if (data.isString())
                QCOMPARE(QString::fromUtf8(got.event.data), data.toString());
            else
                QCOMPARE(QJsonDocument::fromJson(got.event.data).object(), data.toObject());
        }
    }
};

QTEST_GUILESS_MAIN(TestConformance)
#include "tst_conformance.moc"
