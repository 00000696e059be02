// SPDX-License-Identifier: MIT
// The relayer's HTTP client against servers we did not write and against raw sockets that answer oddly:
// Node's http module (a stock receiver that delays its ACKs), interim 1xx answers, cut answers, garbage,
// huge bodies, 413 to large batches, more connections than QNetworkAccessManager would open, a process
// paused while its answer arrives, headers, Standard Webhooks signatures, client certificates.
// Backend-independent: SQLite outboxes only.

#include "httpparse.h"
#include "httpsender.h"
#include "httpwrite.h"
#include "receiver.h"
#include "relayer.h"
#include "sendevent.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLocale>
#include <QMutex>
#include <QProcess>
#include <QSslKey>
#include <QSslServer>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <csignal>

using namespace outbox;

namespace {

// A TCP server on its own thread that reads HTTP requests (head + Content-Length body) and answers each with
// whatever bytes the handler returns: answers no server library would give. Counts every request it read.
class RawServer
{
public:
    struct Answer
    {
        QByteArray bytes;
        bool close = false; // close the connection after writing
        qint64 zeroBodyBytes = 0; // then stream this many more bytes (a huge body), while the peer reads
        QByteArray drip = {}; // then write this every dripEveryMs (a trickling body, a stream of interim answers)
        int dripEveryMs = 0;
        int dripTimes = 0;
    };
    using Handler = std::function<Answer(int index, const QByteArray &head, const QByteArray &body)>;

    explicit RawServer(Handler handler) : m_handler(std::move(handler))
    {
        m_thread.start();
        m_server = new QTcpServer;
        m_server->moveToThread(&m_thread);
        QMetaObject::invokeMethod(
            m_server,
            [this] {
                QObject::connect(m_server, &QTcpServer::newConnection, m_server, [this] {
                    while (QTcpSocket *s = m_server->nextPendingConnection())
                        serve(s);
                });
                m_server->listen(QHostAddress::LocalHost);
                m_port = m_server->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }
    ~RawServer()
    {
        QMetaObject::invokeMethod(
            m_server, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/events").arg(m_port)); }
    int requests() const { return m_requests.loadRelaxed(); }
    int connections() const { return m_connections.loadRelaxed(); }
    int maxOpen() const { return m_maxOpen.loadRelaxed(); }
    QList<QByteArray> heads() const
    {
        QMutexLocker lock(&m_mutex);
        return m_heads;
    }
    QList<QByteArray> bodies() const
    {
        QMutexLocker lock(&m_mutex);
        return m_bodies;
    }

private:
    void serve(QTcpSocket *socket)
    {
        m_connections.ref();
        const int open = m_open.fetchAndAddRelaxed(1) + 1;
        for (int max = m_maxOpen.loadRelaxed(); open > max && !m_maxOpen.testAndSetRelaxed(max, open);
             max = m_maxOpen.loadRelaxed()) { }
        auto buffer = std::make_shared<QByteArray>();
        QObject::connect(socket, &QTcpSocket::disconnected, socket, [this, socket] {
            m_open.deref();
            socket->deleteLater();
        });
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            for (;;) {
                const qsizetype headEnd = buffer->indexOf("\r\n\r\n");
                if (headEnd < 0)
                    return;
                const QByteArray head = buffer->left(headEnd);
                const qsizetype at = head.toLower().indexOf("content-length:");
                const qsizetype length =
                    at < 0 ? 0 : head.mid(at + 15, head.indexOf("\r\n", at) - at - 15).trimmed().toLongLong();
                if (buffer->size() < headEnd + 4 + length)
                    return;
                const QByteArray body = buffer->mid(headEnd + 4, length);
                buffer->remove(0, headEnd + 4 + length);
                const int index = m_requests.fetchAndAddRelaxed(1);
                {
                    QMutexLocker lock(&m_mutex);
                    m_heads.append(head);
                    m_bodies.append(body);
                }
                const Answer a = m_handler(index, head, body);
                socket->write(a.bytes);
                if (!a.drip.isEmpty()) {
                    auto *timer = new QTimer(socket);
                    auto left = std::make_shared<int>(a.dripTimes);
                    QObject::connect(timer, &QTimer::timeout, socket, [socket, timer, left, drip = a.drip] {
                        if (*left <= 0 || socket->state() != QAbstractSocket::ConnectedState) {
                            timer->stop();
                            return;
                        }
                        if (socket->bytesToWrite() < 1024 * 1024) { // as fast as the peer reads, no faster
                            socket->write(drip);
                            --*left;
                        }
                    });
                    timer->start(a.dripEveryMs);
                    return;
                }
                if (a.zeroBodyBytes > 0) {
                    auto left = std::make_shared<qint64>(a.zeroBodyBytes);
                    auto more = [socket, left] {
                        while (*left > 0 && socket->bytesToWrite() < 1024 * 1024) {
                            const qint64 n = qMin<qint64>(*left, 256 * 1024);
                            socket->write(QByteArray(n, '0'));
                            *left -= n;
                        }
                    };
                    QObject::connect(socket, &QTcpSocket::bytesWritten, socket, more);
                    more();
                    return;
                }
                if (a.close) {
                    socket->disconnectFromHost();
                    return;
                }
            }
        });
    }

    Handler m_handler;
    QThread m_thread;
    QTcpServer *m_server = nullptr;
    quint16 m_port = 0;
    QAtomicInt m_requests = 0, m_connections = 0, m_open = 0, m_maxOpen = 0;
    mutable QMutex m_mutex;
    QList<QByteArray> m_heads, m_bodies;
};

RawServer::Answer ok()
{
    return {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
}

} // namespace

class TestHttp : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    ConnectionSpec m_spec;
    std::unique_ptr<testsupport::AppConnection> m_app;
    std::unique_ptr<Storage> m_storage;

    RelayerConfig config(const QUrl &target) const
    {
        RelayerConfig c;
        c.targetUrl = target;
        c.pollIntervalMs = 50;
        c.maxIdleBackoffMs = 200;
        c.retryBackoffMs = 50;
        c.requestTimeoutMs = 5000;
        return c;
    }

    QStringList enqueue(int count, const QByteArray &data = "{\"n\":1}")
    {
        QStringList ids;
        QSqlDatabase db = m_app->db();
        db.transaction();
        for (int i = 0; i < count; ++i) {
            auto id = sendEventTransactional(db, QStringLiteral("com.example.http"), QStringLiteral("/tests"), data);
            if (!id.isOk())
                qFatal("enqueue failed: %s", qPrintable(id.error().message()));
            ids << *id;
        }
        db.commit();
        return ids;
    }

    OutboxEvent row(const QString &id) const { return *m_storage->event(id); }

    int relayAll(const RelayerConfig &c)
    {
        Relayer relayer(m_spec, c);
        int total = 0;
        for (;;) {
            const RelayOnceResult r = relayer.relayOnce();
            if (r.error)
                qFatal("relay failed: %s", qPrintable(r.error.message()));
            if (r.processed == 0)
                return total;
            total += r.processed;
        }
    }

private Q_SLOTS:
    void init()
    {
        m_spec = testsupport::freshOutbox(m_dir);
        m_storage = testsupport::openStorage(m_spec);
        m_app = std::make_unique<testsupport::AppConnection>(m_spec);
    }

    void cleanup()
    {
        m_app.reset();
        m_storage.reset();
    }

    static QByteArray headTo(const QString &url)
    {
        RequestHeadOptions o;
        o.target = QUrl(url);
        return requestHead(o);
    }

    // The request bytes, without a socket: read back by the receiver's own parser and checked field by field.
    void requestsAreWrittenAsHttpSays()
    {
        RequestHeadOptions o;
        o.target = QUrl(QStringLiteral("http://app:p%40ss@b\u00fccher.example:8080/hooks/in?tenant=a%20b"));
        o.headers = {{"X-Tenant", "blue"}};
        const QByteArray head = requestHead(o);
        QVERIFY2(head.startsWith("POST /hooks/in?tenant=a%20b HTTP/1.1\r\nHost: xn--bcher-kva.example:8080\r\n"), head);
        QVERIFY2(head.contains("\r\nX-Tenant: blue\r\n"), head);
        QVERIFY2(head.contains("\r\nAuthorization: Basic " + QByteArray("app:p@ss").toBase64() + "\r\n"), head);
        // The operator's own Authorization replaces the URL's; a default port is not written; IPv6 in brackets.
        o.headers.append(std::pair<QByteArray, QByteArray>("Authorization", "Bearer t"));
        o.target = QUrl(QStringLiteral("https://u:p@[::1]:443/"));
        const QByteArray v6 = requestHead(o);
        QVERIFY2(v6.startsWith("POST / HTTP/1.1\r\nHost: [::1]\r\n"), v6);
        QCOMPARE(v6.count("Authorization:"), 1);
        // Through a proxy: the whole URL in the request line, without the credentials; the proxy's own.
        o.target = QUrl(QStringLiteral("http://u:p@example.com/x"));
        o.absoluteForm = true;
        o.proxyUser = QStringLiteral("proxy");
        o.proxyPassword = QStringLiteral("pw");
        const QByteArray proxied = requestHead(o);
        QVERIFY2(proxied.startsWith("POST http://example.com/x HTTP/1.1\r\n"), proxied);
        QVERIFY2(proxied.contains("Proxy-Authorization: Basic " + QByteArray("proxy:pw").toBase64()), proxied);

        HttpMessage m;
        m.headers = {{"ce-id", "e1"}, {"ce-type", "order.created"}};
        m.body = "{\"n\":1}";
        const QByteArray key = "0123456789abcdef";
        const QByteArray request = writeRequest(headTo(QStringLiteral("http://h/in")), m, key, "e1", 1700000000);
        const ParsedRequest r = parseHttpRequest(request);
        QCOMPARE(r.state, ParsedRequest::Complete);
        QCOMPARE(r.consumed, request.size());
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.target, QByteArray("/in"));
        QCOMPARE(r.message.body, m.body);
        QCOMPARE(r.message.header("ce-id"), QByteArray("e1"));
        QCOMPARE(r.message.header("content-type"), QByteArray("application/octet-stream")); // none given
        QCOMPARE(r.message.header("content-length"), QByteArray::number(m.body.size()));
        QCOMPARE(r.message.header("webhook-timestamp"), QByteArray("1700000000"));
        QCOMPARE(r.message.header("webhook-signature"), HttpSender::webhookSignature(key, "e1", 1700000000, m.body));
        // Unsigned, with its own content type: no webhook headers, no second Content-Type.
        m.headers.append(std::pair<QByteArray, QByteArray>("Content-Type", "application/json"));
        const QByteArray plain = writeRequest(headTo(QStringLiteral("http://h/")), m);
        QVERIFY(!plain.contains("webhook-"));
        QCOMPARE(plain.count("Content-Type"), 1);
        QCOMPARE(parseHttpRequest(plain).state, ParsedRequest::Complete);
    }

    // Node's http server delays its ACKs like any stock server: a client with Nagle on stalls 40 ms on every
    // body over 16 KiB (100 events of 20 KiB took 4 s one at a time). Ours must not.
    void noStallAgainstAStockNodeServer()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
            QSKIP("node is not installed");
        QProcess node;
        node.start(QStringLiteral("node"),
            {QStringLiteral("-e"),
                QStringLiteral(
                    "const "
                    "s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>{r.writeHead(202);r.end()})});"
                    "s.listen(0,'127.0.0.1',()=>console.log(s.address().port))")});
        QVERIFY(node.waitForReadyRead(10000));
        const int port = node.readLine().trimmed().toInt();
        QVERIFY(port > 0);
        const QStringList ids = enqueue(100, "{\"pad\":\"" + QByteArray(20 * 1024, 'x') + "\"}");
        RelayerConfig c = config(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
        c.concurrency = 1;
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(c), 100);
        const qint64 ms = clock.elapsed();
        node.kill();
        node.waitForFinished();
        QCOMPARE(m_storage->stats()->sent, 100);
        qInfo("100 events of 20 KiB, one at a time, to Node: %lld ms", ms);
        QVERIFY2(ms < 2000, qPrintable(QString::number(ms))); // 40 ms each would be 4,000 ms
    }

    // 102 Processing and 103 Early Hints come before the final answer: only the final status counts.
    void interimAnswersAreNotOutcomes()
    {
        RawServer server([](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{
                "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"};
        });
        const QStringList ids = enqueue(3);
        QCOMPARE(relayAll(config(server.url())), 3);
        for (const QString &id : ids) {
            QCOMPARE(row(id).status, EventStatus::Sent);
            QCOMPARE(row(id).lastHttpStatus, 202);
        }
        QCOMPARE(server.requests(), 3);
    }

    // Every request the receiver may have processed is an attempt; the client never re-sends on its own.
    void oddAnswersAreOneAttemptEach_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<QString>("error");
        QTest::newRow("closed without answer") << QByteArray() << "connection closed before an answer";
        QTest::newRow("cut status line") << QByteArray("HTTP/1.1 20")
                                         << "connection closed in the middle of the answer";
        QTest::newRow("garbage") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n") << "malformed answer: not an HTTP answer";
        QTest::newRow("garbage head") << QByteArray("HTTP/1.1 two hundred\r\n\r\n")
                                      << "malformed answer: malformed status line";
        QTest::newRow("101 switch") << QByteArray("HTTP/1.1 101 Switching Protocols\r\n\r\n")
                                    << "malformed answer: the receiver switched protocols (101)";
    }

    void oddAnswersAreOneAttemptEach()
    {
        QFETCH(QByteArray, answer);
        QFETCH(QString, error);
        RawServer server([answer](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{answer, true};
        });
        const QString id = enqueue(1).first();
        QCOMPARE(relayAll(config(server.url())), 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QCOMPARE(e.attempts, 1);
        QVERIFY2(e.lastError.startsWith(error), qPrintable(e.lastError));
        QTest::qWait(200);
        QCOMPARE(server.requests(), 1); // exactly the one attempt recorded
        QCOMPARE(m_storage->attempts(id)->size(), 1);
    }

    // A 2xx answer with a body of 200 MB: the status is the outcome, the body is not read to its end.
    void hugeAnswerBodyIsNotRead()
    {
        RawServer server([](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n", false, 200 * 1024 * 1024};
        });
        const QString id = enqueue(1).first();
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(config(server.url())), 1);
        QCOMPARE(row(id).status, EventStatus::Sent);
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    }

    // Issue 26: a 2xx status line is the delivery. A receiver that answers 200 at once and then sends its body
    // one byte every 200 ms (slower than the request timeout allows) accepted the event: it is sent after one
    // request, not called timed out, sent again and finally failed.
    void trickledBodyOfA2xxIsADelivery()
    {
        RawServer server([](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false, 0, "x", 200, 100};
        });
        const QString id = enqueue(1).first();
        RelayerConfig c = config(server.url());
        c.requestTimeoutMs = 1000;
        c.maxRetries = 3;
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(c), 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Sent);
        QCOMPARE(e.lastHttpStatus, 200);
        QCOMPARE(e.attempts, 1);
        QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed()))); // decided on the status
        QTest::qWait(300);
        QCOMPARE(server.requests(), 1);
    }

    // Issue 26: an endless stream of interim 1xx answers is capped (count and bytes), not buffered: the request
    // ends as a malformed answer well within its deadline, and memory stays flat.
    void endlessInterimAnswersAreCapped()
    {
        QByteArray flood;
        for (int i = 0; i < 256; ++i)
            flood += "HTTP/1.1 100 Continue\r\n\r\n";
        RawServer server([flood](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{{}, false, 0, flood, 0, 1000000};
        });
        const QString id = enqueue(1).first();
        RelayerConfig c = config(server.url());
        c.requestTimeoutMs = 5000;
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(c), 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Pending);
        QVERIFY2(e.lastError.contains(QStringLiteral("interim")), qPrintable(e.lastError));
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(server.requests(), 1);
    }

    // The deadline stays exact with interim answers that trickle (one every 300 ms, under the cap for 5 s).
    void interimAnswersDoNotStretchTheDeadline()
    {
        RawServer server([](int, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{{}, false, 0, "HTTP/1.1 102 Processing\r\n\r\n", 300, 100};
        });
        const QString id = enqueue(1).first();
        RelayerConfig c = config(server.url());
        c.requestTimeoutMs = 1500;
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(c), 1);
        const qint64 took = clock.elapsed();
        QVERIFY2(row(id).lastError.contains(QStringLiteral("timed out after 1500 ms")), qPrintable(row(id).lastError));
        QVERIFY2(took >= 1400 && took < 2200, qPrintable(QString::number(took)));
    }

    // A failing answer's body: a bounded part of it is the error text.
    void failingAnswerKeepsABoundedError()
    {
        RawServer server([](int, const QByteArray &, const QByteArray &) {
            const QByteArray body = "quota exceeded " + QByteArray(100000, 'q');
            return RawServer::Answer{
                "HTTP/1.1 400 Bad Request\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body};
        });
        const QString id = enqueue(1).first();
        QCOMPARE(relayAll(config(server.url())), 1);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Failed);
        QVERIFY2(e.lastError.startsWith(QStringLiteral("HTTP 400 Bad Request: quota exceeded qqq")),
            qPrintable(e.lastError.left(80)));
        QVERIFY(e.lastError.size() < 600);
    }

    // Retry-After: 0 does not burn the retries: our own backoff is the floor. A date is honoured (here on a 429,
    // which holds the event without charging it).
    void retryAfterHasAFloor()
    {
        RawServer server([](int index, const QByteArray &, const QByteArray &) {
            return RawServer::Answer{index == 0
                    ? QByteArray("HTTP/1.1 500 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n")
                    : "HTTP/1.1 429 Slow\r\nRetry-After: "
                        + QLocale::c()
                              .toString(QDateTime::currentDateTimeUtc().addSecs(30),
                                  QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                              .toLatin1()
                        + "\r\nContent-Length: 0\r\n\r\n"};
        });
        const QString id = enqueue(1).first();
        RelayerConfig c = config(server.url());
        c.retryBackoffMs = 4000;
        QCOMPARE(relayAll(c), 1);
        qint64 wait = QDateTime::currentDateTimeUtc().msecsTo(row(id).nextAttemptAt);
        QVERIFY2(wait >= 1900 && wait <= 4000, qPrintable(QString::number(wait))); // half to all of 4 s, not 0
        QSqlQuery(m_app->db()).exec(QStringLiteral("UPDATE outbox_events SET next_attempt_at = created_at"));
        QCOMPARE(relayAll(c), 1);
        wait = QDateTime::currentDateTimeUtc().msecsTo(row(id).nextAttemptAt);
        QVERIFY2(wait >= 28000 && wait <= 31000, qPrintable(QString::number(wait))); // the server's date
    }

    // user:password@ in the URL: one request, with the credentials, not a first try without them.
    void credentialsInTheUrlAreSentOnce()
    {
        RawServer server([](int, const QByteArray &head, const QByteArray &) {
            return head.contains("Authorization: Basic " + QByteArray("relay:s3cret").toBase64())
                ? ok()
                : RawServer::Answer{
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"};
        });
        const QString id = enqueue(1).first();
        QUrl url = server.url();
        url.setUserName(QStringLiteral("relay"));
        url.setPassword(QStringLiteral("s3cret"));
        QCOMPARE(relayAll(config(url)), 1);
        QCOMPARE(row(id).status, EventStatus::Sent);
        QCOMPARE(server.requests(), 1);
    }

    // --concurrency 20 means 20 requests on the wire (QNetworkAccessManager opens 6 and times the others out
    // while they wait in its queue).
    void concurrencyAboveSixIsReal()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.delayMs = 400;
        receiver.setFaults(f);
        enqueue(60);
        RelayerConfig c = config(receiver.url());
        c.concurrency = 20;
        c.requestTimeoutMs = 1000; // 60 requests, 6 at a time, 400 ms each: 4 s, most would time out
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(relayAll(c), 60);
        QCOMPARE(m_storage->stats()->sent, 60);
        QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
    }

    // A relayer paused (SIGSTOP) past its request timeout while the answer arrives reads the answer when it
    // continues instead of calling the request timed out and sending it again.
    void answerThatArrivedDuringAPauseIsRead()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        ReceiverFaults f;
        f.delayMs = 200;
        receiver.setFaults(f);
        const QString id = enqueue(1).first();
        QProcess relay;
        relay.start(QStringLiteral(OUTBOXCTL_PATH),
            {QStringLiteral("--db"), m_spec.toUrl(), QStringLiteral("relay"), QStringLiteral("--once"),
                QStringLiteral("--target"), receiver.url().toString(), QStringLiteral("--timeout"),
                QStringLiteral("1000")});
        QVERIFY(relay.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(receiver.requestCount() == 1, 10000);
        ::kill(pid_t(relay.processId()), SIGSTOP);
        QTest::qWait(2000); // the answer arrives 200 ms in; the deadline passes at 1,000 ms
        ::kill(pid_t(relay.processId()), SIGCONT);
        QVERIFY(relay.waitForFinished(10000));
        QCOMPARE(relay.exitCode(), 0);
        const OutboxEvent e = row(id);
        QCOMPARE(e.status, EventStatus::Sent);
        QCOMPARE(receiver.requestCount(), 1);
    }

    // Batches: cut at the byte cap before sending; a 413 splits the batch, down to the one event that is
    // too large, which alone fails.
    void batchesFitTheServer()
    {
        constexpr int limit = 64 * 1024; // the server's client_max_body_size
        RawServer server([](int, const QByteArray &, const QByteArray &body) {
            return body.size() > limit
                ? RawServer::Answer{"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"}
                : ok();
        });
        const QStringList small = enqueue(40, "{\"pad\":\"" + QByteArray(4000, 's') + "\"}");
        const QString huge = enqueue(1, "{\"pad\":\"" + QByteArray(100000, 'h') + "\"}").first();
        RelayerConfig c = config(server.url());
        c.contentMode = ContentMode::Batch;
        c.maxBatchBytes = 1024 * 1024; // larger than the server takes: 413 decides
        QCOMPARE(relayAll(c), 41);
        for (const QString &id : small)
            QCOMPARE(row(id).status, EventStatus::Sent);
        QCOMPARE(row(huge).status, EventStatus::Failed);
        QCOMPARE(row(huge).lastHttpStatus, 413);
        QCOMPARE(m_storage->attempts(small.first())->size(), 1);

        // With the cap set below the server's limit, no request is refused at all.
        const QStringList more = enqueue(40, "{\"pad\":\"" + QByteArray(4000, 'm') + "\"}");
        const int before = server.requests();
        c.maxBatchBytes = limit;
        QCOMPARE(relayAll(c), 40);
        for (const QString &id : more)
            QCOMPARE(row(id).status, EventStatus::Sent);
        const QList<QByteArray> bodies = server.bodies().mid(before);
        QVERIFY(bodies.size() >= 3);
        for (const QByteArray &b : bodies)
            QVERIFY2(b.size() <= limit, qPrintable(QString::number(b.size())));
    }

    // Headers from the configuration reach the receiver; the signature is checked by our receiver, and a
    // wrong secret is refused there.
    void headersAndSignatures()
    {
        Receiver receiver;
        QVERIFY(!receiver.listen().isError());
        const QByteArray secret = "whsec_" + QByteArray("the right secret, 32 bytes long!").toBase64();
        QVERIFY(receiver.setSigningSecret(secret));
        QVERIFY(!receiver.setSigningSecret("not a secret"));
        const QStringList ids = enqueue(2);
        RelayerConfig c = config(receiver.url());
        c.headers = {{"Authorization", "Bearer t0ken"}, {"X-Api-Key", "k-42"}};
        c.signingSecret = secret;
        QVERIFY(c.problem().isEmpty());
        QCOMPARE(relayAll(c), 2);
        QCOMPARE(row(ids.first()).status, EventStatus::Sent);
        const ReceivedRequest r = receiver.requests().first();
        QCOMPARE(r.message.header("authorization"), QByteArray("Bearer t0ken"));
        QCOMPARE(r.message.header("x-api-key"), QByteArray("k-42"));
        QCOMPARE(r.message.header("webhook-id"), row(ids.first()).id.toUtf8());
        QCOMPARE(r.signature, QStringLiteral("valid"));

        const QString wrong = enqueue(1).first();
        c.signingSecret = "whsec_" + QByteArray("a wrong secret").toBase64();
        QCOMPARE(relayAll(c), 1);
        QCOMPARE(row(wrong).status, EventStatus::Failed);
        QCOMPARE(row(wrong).lastHttpStatus, 401);
        QVERIFY2(row(wrong).lastError.contains(QStringLiteral("webhook signature does not match")),
            qPrintable(row(wrong).lastError));

        c.headers = {{"Bad Name", "x"}};
        QVERIFY(c.problem().contains(QStringLiteral("not a valid header name")));
        c.headers = {{"X-Secret", "line\r\nInjected: 1"}};
        QVERIFY(c.problem().contains(QStringLiteral("control character")));
        QVERIFY(!c.problem().contains(QStringLiteral("Injected")));
    }

    // Routes: event types go to their own targets with their own mode and headers; a target that hangs holds
    // back only its own events; per-route outcome figures.
    void routesByType()
    {
        Receiver orders, others;
        QVERIFY(!orders.listen().isError());
        QVERIFY(!others.listen().isError());
        RawServer hanging([](int, const QByteArray &, const QByteArray &) { return RawServer::Answer{}; });
        QSqlDatabase db = m_app->db();
        db.transaction();
        for (int i = 0; i < 30; ++i) {
            QVERIFY(
                sendEventTransactional(db, QStringLiteral("com.example.slow"), QStringLiteral("/t"), QByteArray("{}"))
                    .isOk());
            QVERIFY(sendEventTransactional(
                db, QStringLiteral("com.example.order.created"), QStringLiteral("/t"), QByteArray("{}"))
                        .isOk());
            QVERIFY(
                sendEventTransactional(db, QStringLiteral("com.example.other"), QStringLiteral("/t"), QByteArray("{}"))
                    .isOk());
        }
        db.commit();
        RelayerConfig c = config(QUrl());
        c.requestTimeoutMs = 4000;
        c.batchSize = 10;
        c.routes = {RelayRoute{QStringLiteral("orders"), {QStringLiteral("com.example.order.*")}, orders.url(),
                        ContentMode::Batch, 2, {{"X-Route", "orders"}}, {}},
            RelayRoute{QStringLiteral("slow"), {QStringLiteral("com.example.slow")}, hanging.url(), ContentMode::Binary,
                2, {}, {}},
            RelayRoute{
                QStringLiteral("default"), {QStringLiteral("*")}, others.url(), ContentMode::Structured, 6, {}, {}}};
        QVERIFY2(c.problem().isEmpty(), qPrintable(c.problem()));
        Relayer relayer(m_spec, c);
        QHash<QString, int> sentByRoute;
        connect(&relayer, &Relayer::routeOutcome, this, [&](const QString &route, Attempt::Outcome outcome, qint64) {
            if (outcome == Attempt::Outcome::Sent)
                ++sentByRoute[route];
        });
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!relayer.start().isError());
        QTRY_VERIFY_WITH_TIMEOUT(orders.eventCount() == 30 && others.eventCount() == 30, 10000);
        const qint64 ms = clock.elapsed();
        QVERIFY2(ms < 3000, qPrintable(QString::number(ms))); // not held back by the 4 s timeouts of the slow route
        QTRY_COMPARE(sentByRoute.value(QStringLiteral("orders")), 30);
        QTRY_COMPARE(sentByRoute.value(QStringLiteral("default")), 30);
        // The slow route's own concurrency (its lane may start after the others finished, on a loaded machine).
        QTRY_COMPARE_WITH_TIMEOUT(hanging.requests(), 2, 3000);
        relayer.stop();
        for (const ReceivedRequest &r : orders.requests()) {
            QCOMPARE(r.decoded.mode, ContentMode::Batch);
            QCOMPARE(r.message.header("x-route"), QByteArray("orders"));
            for (const ReceivedEvent &e : r.decoded.events)
                QVERIFY(e.event.type.startsWith(QStringLiteral("com.example.order.")));
        }
        for (const ReceivedRequest &r : others.requests()) {
            QCOMPARE(r.decoded.mode, ContentMode::Structured);
            QVERIFY(r.message.header("x-route").isNull());
            QCOMPARE(r.decoded.events.first().event.type, QStringLiteral("com.example.other"));
        }
        QCOMPARE(m_storage->stats()->sent, 60);

        c.routes.removeLast();
        QVERIFY(c.problem().contains(QStringLiteral("no route takes every type")));
        c.routes.prepend(
            RelayRoute{QStringLiteral("all"), {QStringLiteral("*")}, others.url(), ContentMode::Binary, 1, {}, {}});
        QVERIFY(c.problem().contains(QStringLiteral("is never used")));
    }

    // mTLS: a server that requires a client certificate refuses the relayer without one and takes it with one.
    void clientCertificates()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
            QSKIP("openssl is not installed");
        QTemporaryDir tls;
        QVERIFY(testsupport::makeTestCertificates(tls.path(), true));
        QSslServer server;
        QSslConfiguration conf = testsupport::testServerTls(tls.path());
        conf.setCaCertificates(QSslCertificate::fromPath(tls.filePath(QStringLiteral("ca.pem"))));
        conf.setPeerVerifyMode(QSslSocket::VerifyPeer);
        server.setSslConfiguration(conf);
        QStringList clients;
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (QTcpSocket *socket = server.nextPendingConnection()) {
                auto *ssl = qobject_cast<QSslSocket *>(socket);
                clients << ssl->peerCertificate().subjectInfo(QSslCertificate::CommonName).value(0);
                connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                    if (socket->readAll().contains("\r\n\r\n"))
                        socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                });
            }
        });
        QVERIFY(server.listen(QHostAddress::LocalHost));
        RelayerConfig c = config(QUrl(QStringLiteral("https://127.0.0.1:%1/").arg(server.serverPort())));
        c.caCertificatesFile = tls.filePath(QStringLiteral("ca.pem"));
        const QString id = enqueue(1).first();
        auto relayOnce = [&](const RelayerConfig &config) {
            Relayer relayer(m_spec, config);
            int processed = -1;
            relayer.relayOnceAsync([&](const RelayOnceResult &r) { processed = r.processed; });
            QTRY_VERIFY_WITH_TIMEOUT(processed >= 0, 15000);
        };
        relayOnce(c);
        QCOMPARE(row(id).status, EventStatus::Pending); // refused without a certificate
        QVERIFY(clients.isEmpty());

        c.clientCertificateFile = tls.filePath(QStringLiteral("client.pem"));
        QVERIFY(c.problem().contains(QStringLiteral("needs its key")));
        c.clientKeyFile = tls.filePath(QStringLiteral("client.key"));
        QVERIFY2(c.problem().isEmpty(), qPrintable(c.problem()));
        QSqlQuery(m_app->db()).exec(QStringLiteral("UPDATE outbox_events SET next_attempt_at = created_at"));
        relayOnce(c);
        QCOMPARE(row(id).status, EventStatus::Sent);
        QCOMPARE(clients, QStringList{QStringLiteral("relayer")});
    }
};

QTEST_GUILESS_MAIN(TestHttp)
#include "tst_http.moc"
