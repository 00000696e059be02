// SPDX-License-Identifier: MIT
// CloudEvents encoding and decoding, and the small parsers (durations, database URLs).

#include "cloudevents.h"
#include "connectionspec.h"
#include "duration.h"
#include "httpsender.h"
#include "jsonscan.h"
#include "receiver.h"

#include <QJsonDocument>
#include <QLocale>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

using namespace outbox;

class TestCloudEvents : public QObject
{
    Q_OBJECT

    static OutboxEvent sample()
    {
        OutboxEvent e;
        e.id = QStringLiteral("evt-1");
        e.type = QStringLiteral("com.example.order.created");
        e.source = QStringLiteral("/shop");
        e.subject = QStringLiteral("orders/7");
        e.contentType = QStringLiteral("application/json");
        e.data = QByteArray(R"({"order":7,"big":1234567890123456789})");
        e.extensions.insert(
            QStringLiteral("traceparent"), QStringLiteral("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        e.createdAt = QDateTime(QDate(2026, 11, 26), QTime(21, 25, 15, 123), Qt::UTC);
        return e;
    }

private Q_SLOTS:
    void binaryModeHeadersAndBody()
    {
        const HttpMessage m = cloudevents::encode(sample(), ContentMode::Binary);
        QCOMPARE(m.header("ce-specversion"), QByteArray("1.0"));
        QCOMPARE(m.header("ce-id"), QByteArray("evt-1"));
        QCOMPARE(m.header("ce-type"), QByteArray("com.example.order.created"));
        QCOMPARE(m.header("ce-source"), QByteArray("/shop"));
        QCOMPARE(m.header("ce-subject"), QByteArray("orders/7"));
        QCOMPARE(m.header("ce-time"), QByteArray("2026-11-26T21:25:15.123Z"));
        QCOMPARE(m.header("ce-traceparent"), QByteArray("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        QCOMPARE(m.header("content-type"), QByteArray("application/json"));
        QVERIFY(m.header("ce-datacontenttype").isNull());
        QCOMPARE(m.body, QByteArray(R"({"order":7,"big":1234567890123456789})"));
    }

    void binaryModePercentEncodesHeaderValues()
    {
        OutboxEvent e = sample();
        e.subject = QStringLiteral("a b\"c%dé\n");
        const HttpMessage m = cloudevents::encode(e, ContentMode::Binary);
        QCOMPARE(m.header("ce-subject"), QByteArray("a%20b%22c%25d%C3%A9%0A"));
        // and the receiver side reads it back
        const DecodedRequest d = cloudevents::decode(m);
        QCOMPARE(d.events.size(), 1);
        QCOMPARE(d.events.first().event.subject, e.subject);
    }

    void structuredModeSplicesJsonDataByteForByte()
    {
        const HttpMessage m = cloudevents::encode(sample(), ContentMode::Structured);
        QCOMPARE(m.header("content-type"), QByteArray("application/cloudevents+json; charset=utf-8"));
        QCOMPARE(m.body,
            QByteArray(R"({"specversion":"1.0","id":"evt-1","source":"/shop","type":"com.example.order.created",)"
                       R"("time":"2026-11-26T21:25:15.123Z","subject":"orders/7","datacontenttype":"application/json",)"
                       R"("traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",)"
                       R"("data":{"order":7,"big":1234567890123456789}})"));
        // Control characters, quotes and non-ASCII in attributes are escaped and read back unchanged.
        OutboxEvent odd = sample();
        odd.subject = QStringLiteral("tab\t quote\" back\\ bell\a é");
        odd.extensions.insert(QStringLiteral("flag"), true);
        odd.extensions.insert(QStringLiteral("count"), 42);
        const QJsonObject o = QJsonDocument::fromJson(cloudevents::structuredJson(odd)).object();
        QCOMPARE(o.value("subject").toString(), odd.subject);
        QCOMPARE(o.value("flag").toBool(), true);
        QCOMPARE(o.value("count").toInt(), 42);
    }

    void structuredModeTextAndBinaryData()
    {
        OutboxEvent e = sample();
        e.contentType = QStringLiteral("text/plain");
        e.data = "line \"one\"\n";
        QJsonObject o = QJsonDocument::fromJson(cloudevents::structuredJson(e)).object();
        QCOMPARE(o.value("data").toString(), QStringLiteral("line \"one\"\n"));
        e.contentType = QStringLiteral("application/octet-stream");
        e.data = QByteArray("\x00\xff\x10", 3);
        o = QJsonDocument::fromJson(cloudevents::structuredJson(e)).object();
        QVERIFY(!o.contains("data"));
        QCOMPARE(o.value("data_base64").toString(), QStringLiteral("AP8Q"));
        const DecodedRequest d = cloudevents::decode(cloudevents::encode(e, ContentMode::Structured));
        QCOMPARE(d.events.first().event.data, e.data);
    }

    void batchRoundTrip()
    {
        OutboxEvent a = sample();
        OutboxEvent b = sample();
        b.id = QStringLiteral("evt-2");
        b.data = "[1,2,3]";
        const HttpMessage m = cloudevents::encodeBatch({a, b});
        QCOMPARE(m.header("content-type"), QByteArray("application/cloudevents-batch+json; charset=utf-8"));
        const DecodedRequest d = cloudevents::decode(m);
        QCOMPARE(d.mode, ContentMode::Batch);
        QVERIFY(d.error.isEmpty());
        QCOMPARE(d.events.size(), 2);
        QVERIFY2(d.events.at(0).isValid(), qPrintable(d.events.at(0).problems.join(';')));
        QCOMPARE(d.events.at(0).event.data, a.data); // 64-bit integer exact
        QCOMPARE(d.events.at(1).event.id, QStringLiteral("evt-2"));
        QCOMPARE(d.events.at(1).event.data, QByteArray("[1,2,3]"));
        QCOMPARE(d.events.at(0).event.extensions.value("traceparent").toString(),
            a.extensions.value("traceparent").toString());
        QCOMPARE(d.events.at(0).event.createdAt, a.createdAt);
    }

    void validationReasons()
    {
        OutboxEvent e = sample();
        QVERIFY(cloudevents::validate(e, ContentMode::Structured).isEmpty());
        e.type.clear();
        QCOMPARE(cloudevents::validate(e, ContentMode::Binary), QStringLiteral("the event has no type"));
        e = sample();
        e.extensions.insert(QStringLiteral("Bad-Name"), 1);
        QVERIFY(cloudevents::validate(e, ContentMode::Binary).contains("lower-case"));
        e = sample();
        e.data = "{not json";
        QVERIFY(cloudevents::validate(e, ContentMode::Binary).isEmpty()); // binary sends bytes as they are
        QVERIFY(cloudevents::validate(e, ContentMode::Structured).contains("not valid JSON"));
    }

    // The hand-written time format agrees with Qt's on every kind of date, including leap days, the first and
    // last millisecond of a day, times before 1970 and years outside 0000-9999 (left to Qt).
    void timeFormat()
    {
        const auto qtFormat = [](const QDateTime &t) {
            return t.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"));
        };
        QCOMPARE(cloudevents::formatTime(sample().createdAt), QStringLiteral("2026-11-26T21:25:15.123Z"));
        const QList<QDateTime> times = {
            QDateTime::fromMSecsSinceEpoch(0, Qt::UTC), QDateTime::fromMSecsSinceEpoch(-1, Qt::UTC),
            QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC),
            QDateTime(QDate(2000, 3, 1), QTime(0, 0), Qt::UTC),
            QDateTime(QDate(1900, 2, 28), QTime(12, 0, 0, 7), Qt::UTC), QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC),
            QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), Qt::UTC),
            QDateTime(QDate(2026, 11, 27), QTime(3, 4, 5, 6), Qt::OffsetFromUTC, 3600 * 5 + 1800), // not UTC
        };
        for (const QDateTime &t : times)
            QCOMPARE(cloudevents::formatTime(t), qtFormat(t));
        QDateTime walk = QDateTime(QDate(1969, 12, 25), QTime(1, 2, 3, 4), Qt::UTC);
        for (int i = 0; i < 3000; ++i, walk = walk.addMSecs(86400000LL * 17 + 3600123))
            QCOMPARE(cloudevents::formatTime(walk), qtFormat(walk));
        const QDateTime farFuture(QDate(12000, 1, 1), QTime(0, 0), Qt::UTC);
        QCOMPARE(cloudevents::formatTime(farFuture), qtFormat(farFuture));
    }

    // The quick JSON check answers "valid" only where Qt's parser agrees, and a refusal still gives Qt's reason.
    void jsonCheck()
    {
        const QList<QByteArray> valid = {
            "{}",
            "[]",
            "0",
            "-0.5",
            "\"x\"",
            "true",
            "false",
            "null",
            " {\"a\" : [1, 2.25, {\"b\":null}] } ",
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
            "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
            "1234567890123456789",
        };
        for (const QByteArray &json : valid) {
            QVERIFY2(cloudevents::isCertainlyValidJson(json), json.constData());
            QVERIFY2(cloudevents::isValidJson(json), json.constData());
        }
        const QList<QByteArray> invalid = {
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "01",
            "-",
            "tru",
            "nul",
            "[1 2]",
            "\"open",
            "{} {}",
            "{'a':1}",
            "\"\xc3\"",
            "\"\xed\xa0\x80\"",
            "\"\xc0\xaf\"",
            "NaN",
        };
        for (const QByteArray &json : invalid) {
            QVERIFY2(!cloudevents::isCertainlyValidJson(json), json.constData());
            QString why;
            QVERIFY2(!cloudevents::isValidJson(json, &why), json.constData());
            QVERIFY2(!why.isEmpty(), json.constData());
        }
        // What the quick check leaves to Qt, which accepts it: exponents, surrogate escapes, deep nesting, and
        // Qt's leniencies (a bare fraction, an unknown escape).
        for (const QByteArray &json :
            {QByteArray("1e5"), QByteArray("[\"\\ud83d\\ude00\"]"), QByteArray(300, '[') + QByteArray(300, ']'),
                QByteArray("1."), QByteArray(".5"), QByteArray("[\"\\x\"]")}) {
            QVERIFY2(!cloudevents::isCertainlyValidJson(json), json.left(20).constData());
            QVERIFY2(cloudevents::isValidJson(json), json.left(20).constData());
        }
    }

    void decodeReportsMalformedRequests_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QList<QByteArray>>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no specversion") << QByteArray("application/json") << QList<QByteArray>{"ce-id", "1"}
                                        << QByteArray("{}") << "no ce-specversion header";
        QTest::newRow("missing id") << QByteArray("application/json")
                                    << QList<QByteArray>{"ce-specversion", "1.0", "ce-type", "t", "ce-source", "s"}
                                    << QByteArray("{}") << "missing required attribute 'id'";
        QTest::newRow("bad time") << QByteArray("application/json")
                                  << QList<QByteArray>{"ce-specversion", "1.0", "ce-id", "1", "ce-type", "t",
                                         "ce-source", "s", "ce-time", "yesterday"}
                                  << QByteArray("{}") << "not an RFC 3339 timestamp";
        QTest::newRow("invalid json data")
            << QByteArray("application/json")
            << QList<QByteArray>{"ce-specversion", "1.0", "ce-id", "1", "ce-type", "t", "ce-source", "s"}
            << QByteArray("{oops") << "not valid JSON";
        QTest::newRow("structured garbage") << QByteArray("application/cloudevents+json") << QList<QByteArray>{}
                                            << QByteArray("\x01\x02garbage") << "structured body is not valid JSON";
        QTest::newRow("batch not array") << QByteArray("application/cloudevents-batch+json") << QList<QByteArray>{}
                                         << QByteArray("{}") << "batch body is not a JSON array";
        QTest::newRow("unknown format") << QByteArray("application/cloudevents+xml") << QList<QByteArray>{}
                                        << QByteArray("<x/>") << "unsupported structured event format";
    }

    void decodeReportsMalformedRequests()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(QList<QByteArray>, headers);
        QFETCH(QByteArray, body);
        QFETCH(QString, expected);
        HttpMessage m;
        m.addHeader("content-type", contentType);
        for (qsizetype i = 0; i + 1 < headers.size(); i += 2)
            m.addHeader(headers.at(i), headers.at(i + 1));
        m.body = body;
        const DecodedRequest d = cloudevents::decode(m);
        QStringList all{d.error};
        for (const ReceivedEvent &e : d.events)
            all += e.problems;
        QVERIFY2(all.join('|').contains(expected), qPrintable(all.join('|')));
    }

    void retryAfterParsing()
    {
        QCOMPARE(HttpSender::parseRetryAfter("7"), 7000);
        QCOMPARE(HttpSender::parseRetryAfter(""), -1);
        QCOMPARE(HttpSender::parseRetryAfter("soon"), -1);
        const QByteArray date = QDateTime::currentDateTimeUtc().addSecs(60).toString(Qt::RFC2822Date).toLatin1();
        QVERIFY(qAbs(HttpSender::parseRetryAfter(date) - 60000) < 2000);
        // RFC 9110's IMF-fixdate, as servers send it, in the future and in the past.
        const QByteArray fixdate = QLocale::c()
                                       .toString(QDateTime::currentDateTimeUtc().addSecs(120),
                                           QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                                       .toLatin1();
        QVERIFY2(qAbs(HttpSender::parseRetryAfter(fixdate) - 120000) < 2000, fixdate.constData());
        QCOMPARE(HttpSender::parseRetryAfter("Wed, 21 Oct 2037 07:28:00 GMT"), 24LL * 3600 * 1000); // clamped to a day
        QCOMPARE(HttpSender::parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT"), 0);
        QCOMPARE(HttpSender::parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT"), 0); // RFC 850, obsolete but accepted
        // Huge numbers clamp instead of overflowing (UBSan stopped the relayer on this one).
        QCOMPARE(HttpSender::parseRetryAfter("9223372036854775807"), 24LL * 3600 * 1000);
        QCOMPARE(HttpSender::parseRetryAfter("99999999999999999999999999"), 24LL * 3600 * 1000);
        QCOMPARE(HttpSender::parseRetryAfter("-5"), -1);
    }

    void classification()
    {
        QCOMPARE(HttpSender::classify(204, "", "", "").outcome, DeliveryResult::Outcome::Sent);
        QCOMPARE(
            HttpSender::classify(500, "Internal Server Error", "boom", "").outcome, DeliveryResult::Outcome::Retry);
        QCOMPARE(HttpSender::classify(408, "", "", "").outcome, DeliveryResult::Outcome::Retry);
        QCOMPARE(HttpSender::classify(429, "", "", "3").retryAfterMs, 3000);
        const DeliveryResult notFound = HttpSender::classify(404, "Not Found", "no such route", "");
        QCOMPARE(notFound.outcome, DeliveryResult::Outcome::Failed);
        QCOMPARE(notFound.error, QStringLiteral("HTTP 404 Not Found: no such route"));
    }

    void durations()
    {
        QCOMPARE(*parseDuration("7d"), 7LL * 86400000);
        QCOMPARE(*parseDuration("12h"), 12LL * 3600000);
        QCOMPARE(*parseDuration("1h30m"), 90LL * 60000);
        QCOMPARE(*parseDuration("500ms"), 500LL);
        for (const char *bad : {"", "7", "d", "7x", "-1d", "1d 2h", "99999999999999d"})
            QVERIFY2(!parseDuration(QString::fromLatin1(bad)).isOk(), bad);
    }

    void databaseUrls()
    {
        QCOMPARE(ConnectionSpec::fromUrl("sqlite:///tmp/a.db")->database, QStringLiteral("/tmp/a.db"));
        QCOMPARE(ConnectionSpec::fromUrl("sqlite:rel/a.db")->database, QStringLiteral("rel/a.db"));
        QCOMPARE(ConnectionSpec::fromUrl("/abs/b.db")->database, QStringLiteral("/abs/b.db"));
        const auto pg = ConnectionSpec::fromUrl("postgresql://bob:secret@db.example:6543/outbox");
        QVERIFY(pg.isOk());
        QCOMPARE(pg->driver, QStringLiteral("QPSQL"));
        QCOMPARE(pg->port, 6543);
        QCOMPARE(pg->password, QStringLiteral("secret"));
        QVERIFY(!pg->displayUrl().contains("secret"));
        for (const char *bad : {"", "sqlite:", "sqlite://relative", "oracle://x/y", "mysql://", "mysql://host/",
                 "postgresql://", "postgresql://host/"})
            QVERIFY2(!ConnectionSpec::fromUrl(QString::fromLatin1(bad)).isOk(), bad);
    }

    void receiverSurvivesGarbage()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QList<QByteArray> garbage = {
            QByteArray("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 17),
            "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\ntruncated",
            "POST / HTTP/1.1\r\nX-Big: " + QByteArray(100000, 'a') + "\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        };
        for (const QByteArray &g : garbage) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, receiver.port());
            QVERIFY(s.waitForConnected(2000));
            s.write(g);
            s.waitForBytesWritten(2000);
            s.waitForReadyRead(300);
            s.disconnectFromHost();
        }
        // Still serving, and a valid chunked request is read correctly.
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, receiver.port());
        QVERIFY(s.waitForConnected(2000));
        s.write("POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nce-specversion: 1.0\r\nce-id: c1\r\n"
                "ce-type: t\r\nce-source: s\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
        QVERIFY(s.waitForReadyRead(2000));
        QVERIFY(s.readAll().startsWith("HTTP/1.1 200"));
        const QList<ReceivedEvent> events = receiver.events();
        QVERIFY(!events.isEmpty());
        QCOMPARE(events.last().event.id, QStringLiteral("c1"));
        QCOMPARE(events.last().event.data, QByteArray("{\"a\":1}"));
        QVERIFY(events.last().isValid());
    }

    // The receiver's answers are as short as HTTP allows, and say what becomes of the connection only when
    // the client would not otherwise know: HTTP/1.1 stays open unless told, HTTP/1.0 only when told.
    void receiverAnswersShortly()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QByteArray event =
            "Content-Type: application/json\r\nce-specversion: 1.0\r\nce-id: %1\r\nce-type: t\r\nce-source: s\r\n"
            "Content-Length: 2\r\n";
        auto send = [&](QTcpSocket &s, const QByteArray &requestLine, const QByteArray &id,
                        const QByteArray &extra) -> QByteArray {
            s.write(requestLine + "\r\nHost: a\r\n" + QByteArray(event).replace("%1", id) + extra + "\r\n{}");
            QByteArray answer;
            while (!answer.contains("\r\n\r\n") && s.waitForReadyRead(2000))
                answer += s.readAll();
            return answer;
        };
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, receiver.port());
        QVERIFY(s.waitForConnected(2000));
        QCOMPARE(send(s, "POST / HTTP/1.1", "a1", {}), QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        // Still open: a second request on the same connection is answered.
        QCOMPARE(send(s, "POST / HTTP/1.1", "a2", {}), QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        QCOMPARE(send(s, "POST / HTTP/1.1", "a3", "Connection: close\r\n"),
            QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        QVERIFY(s.state() == QAbstractSocket::UnconnectedState || s.waitForDisconnected(2000));

        QTcpSocket old;
        old.connectToHost(QHostAddress::LocalHost, receiver.port());
        QVERIFY(old.waitForConnected(2000));
        QCOMPARE(send(old, "POST / HTTP/1.0", "b1", "Connection: keep-alive\r\n"),
            QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"));
        QCOMPARE(send(old, "POST / HTTP/1.0", "b2", {}),
            QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        QVERIFY(old.state() == QAbstractSocket::UnconnectedState || old.waitForDisconnected(2000));

        // An answer with a body still says what it is.
        QTcpSocket bad;
        bad.connectToHost(QHostAddress::LocalHost, receiver.port());
        QVERIFY(bad.waitForConnected(2000));
        const QByteArray refused = send(bad, "GET / HTTP/1.1", "c1", {});
        QVERIFY2(refused.startsWith(
                     "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "),
            refused.constData());
        QStringList ids;
        for (const ReceivedEvent &e : receiver.events())
            ids << e.event.id;
        QCOMPARE(ids, QStringList({"a1", "a2", "a3", "b1", "b2"}));
    }
};

QTEST_GUILESS_MAIN(TestCloudEvents)
#include "tst_cloudevents.moc"
