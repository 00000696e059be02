// SPDX-License-Identifier: MIT
#pragma once

// What the broker transport tests share: a fresh SQLite outbox per test function, enqueueing, reading the
// outbox back, a relayer configuration that retries quickly, and the three events (JSON, text, bytes) that the
// conformance checks publish and read back with clients we did not write.

#include "relayer.h"
#include "relayerconfig.h"
#include "sendevent.h"
#include "storage.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <memory>

class BrokerTest
{
protected:
    void openOutbox()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_spec);
        m_app = std::make_unique<testsupport::AppConnection>(m_spec);
    }
    void closeOutbox()
    {
        m_app.reset();
        m_storage.reset();
    }

    QString enqueue(const QString &type, const QByteArray &data, const outbox::SendEventOptions &o = {})
    {
        QSqlDatabase db = m_app->db();
        auto id = outbox::sendEventTransactional(db, type, QStringLiteral("/shop"), data, o);
        if (!id.isOk())
            qFatal("enqueue: %s", qPrintable(id.error().message()));
        return *id;
    }
    // n events of type com.example.bulk ({"i": 0..n-1}) in one transaction; their ids.
    QSet<QString> enqueueBulk(int n)
    {
        QSet<QString> ids;
        QSqlDatabase db = m_app->db();
        db.transaction();
        for (int i = 0; i < n; ++i)
            ids.insert(
                enqueue(QStringLiteral("com.example.bulk"), QByteArray("{\"i\":") + QByteArray::number(i) + "}"));
        db.commit();
        return ids;
    }
    int count(const QString &where)
    {
        QSqlQuery q(m_app->db());
        q.exec(QStringLiteral("SELECT COUNT(*) FROM outbox_events WHERE ") + where);
        return q.next() ? q.value(0).toInt() : -1;
    }
    // The newest error an event has.
    QString lastError()
    {
        QSqlQuery q(m_app->db());
        q.exec(QStringLiteral("SELECT last_error FROM outbox_events WHERE last_error IS NOT NULL ORDER BY seq DESC"));
        return q.next() ? q.value(0).toString() : QString();
    }
    // Relays with `c` until the newest error holds `why`, then stops; the `n` events are still pending, none
    // charged (what a refused credential or a broker that is away leaves).
    void checkHeldUncharged(const outbox::RelayerConfig &c, const QString &why, int n)
    {
        {
            outbox::Relayer relayer(m_spec, c);
            QVERIFY(!relayer.start());
            QTRY_VERIFY2_WITH_TIMEOUT(lastError().contains(why), qPrintable(lastError()), 15000);
            relayer.stop();
        }
        QCOMPARE(count(QStringLiteral("status = 'pending' AND attempts = 0")), n);
    }
    // Retries within a test's patience.
    static outbox::RelayerConfig fastConfig(const QUrl &target, outbox::ContentMode mode = outbox::ContentMode::Binary)
    {
        outbox::RelayerConfig c;
        c.targetUrl = target;
        c.contentMode = mode;
        c.pollIntervalMs = 50;
        c.maxIdleBackoffMs = 200;
        c.retryBackoffMs = 50;
        c.requestTimeoutMs = 5000;
        return c;
    }

    // Each target URL's problem() holds its expected words.
    static void checkTargetProblems(const QList<std::pair<QString, QString>> &bad)
    {
        for (const auto &[url, expected] : bad) {
            outbox::RelayerConfig c;
            c.targetUrl = QUrl(url);
            QVERIFY2(c.problem().contains(expected), qPrintable(url + QStringLiteral(": ") + c.problem()));
        }
    }
    // Batched mode is refused for the broker target.
    static void checkBatchRefused(const QUrl &target)
    {
        outbox::RelayerConfig batched;
        batched.targetUrl = target;
        batched.contentMode = outbox::ContentMode::Batch;
        QVERIFY2(batched.problem().contains(QStringLiteral("batched mode is for HTTP targets")),
            qPrintable(batched.problem()));
    }
    // The rows of a test run in binary and in structured mode (column "mode").
    static void addModeRows()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("binary") << int(outbox::ContentMode::Binary);
        QTest::newRow("structured") << int(outbox::ContentMode::Structured);
    }

    static bool haveNode()
    {
        QProcess node;
        node.start(QStringLiteral("node"), {QStringLiteral("--version")});
        return node.waitForFinished(10000) && node.exitCode() == 0;
    }

    // The conformance events: JSON with a subject and two extensions, text, and bytes.
    struct SdkEvents
    {
        QString jsonId, textId, bytesId;
        QByteArray jsonData;
    };
    SdkEvents enqueueSdkEvents(const QString &subject, const QString &orderingKey = {})
    {
        SdkEvents e;
        outbox::SendEventOptions json;
        json.subject = subject;
        json.orderingKey = orderingKey;
        json.extensions = QJsonObject{{QStringLiteral("traceparent"), QStringLiteral("00-0af7-b7ad-01")},
            {QStringLiteral("tenant"), QStringLiteral("acme")}};
        e.jsonData = QStringLiteral("{\"order\":42,\"note\":\"\u00fcn\u00efcode \\\"quoted\\\"\"}").toUtf8();
        e.jsonId = enqueue(QStringLiteral("com.example.order.created"), e.jsonData, json);
        e.textId = enqueue(QStringLiteral("com.example.note"), "plain text, with \"quotes\"",
            outbox::withContentType(QStringLiteral("text/plain")));
        e.bytesId = enqueue(QStringLiteral("com.example.blob"), QByteArray("\x00\x01\xfe\xff", 4),
            outbox::withContentType(QStringLiteral("application/octet-stream")));
        return e;
    }
    // What every client read of them, by id (each value the "event" the SDK made): the attributes and
    // extensions of the JSON one, and the text and bytes data. The JSON data is checked by the caller (the
    // bindings differ in how they give it back).
    static void checkSdkEvents(const QHash<QString, QJsonObject> &events, const SdkEvents &e, const QString &subject)
    {
        const QJsonObject j = events.value(e.jsonId);
        QCOMPARE(j.value(QStringLiteral("id")).toString(), e.jsonId);
        QCOMPARE(j.value(QStringLiteral("specversion")).toString(), QStringLiteral("1.0"));
        QCOMPARE(j.value(QStringLiteral("type")).toString(), QStringLiteral("com.example.order.created"));
        QCOMPARE(j.value(QStringLiteral("source")).toString(), QStringLiteral("/shop"));
        QCOMPARE(j.value(QStringLiteral("subject")).toString(), subject);
        QCOMPARE(j.value(QStringLiteral("traceparent")).toString(), QStringLiteral("00-0af7-b7ad-01"));
        QCOMPARE(j.value(QStringLiteral("tenant")).toString(), QStringLiteral("acme"));
        QVERIFY(!j.value(QStringLiteral("time")).toString().isEmpty());
        QCOMPARE(events.value(e.textId).value(QStringLiteral("data")).toString(),
            QStringLiteral("plain text, with \"quotes\""));
        QCOMPARE(
            events.value(e.bytesId).value(QStringLiteral("data")).toObject().value(QStringLiteral("base64")).toString(),
            QStringLiteral("AAH+/w=="));
    }

    // The JSON lines the conformance script prints (its "subscribed" left out), each under the id `idOf` finds
    // in it, until there are `count` or `timeoutMs` have passed; a line whose reader failed is also warned of.
    static QHash<QString, QJsonObject> readSdkLines(
        QProcess &sdk, int count, int timeoutMs, const std::function<QString(const QJsonObject &)> &idOf)
    {
        QHash<QString, QJsonObject> read;
        QElapsedTimer clock;
        clock.start();
        while (read.size() < count && clock.elapsed() < timeoutMs) {
            if (!sdk.canReadLine() && !sdk.waitForReadyRead(100))
                continue;
            while (sdk.canReadLine()) {
                const QByteArray raw = sdk.readLine();
                if (raw.trimmed() == "subscribed")
                    continue;
                const QJsonObject line = QJsonDocument::fromJson(raw).object();
                if (!line.value(QStringLiteral("ok")).toBool())
                    qWarning() << "the SDK:" << line;
                read.insert(idOf(line), line);
            }
        }
        return read;
    }
    // The id of the event the SDK read from a line.
    static QString eventIdOf(const QJsonObject &line)
    {
        return line.value(QStringLiteral("event")).toObject().value(QStringLiteral("id")).toString();
    }

    QTemporaryDir m_dir;
    outbox::ConnectionSpec m_spec;
    std::unique_ptr<testsupport::AppConnection> m_app;
    std::unique_ptr<outbox::Storage> m_storage;
};
