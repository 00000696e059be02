// SPDX-License-Identifier: MIT
#include "receiver.h"

#include "httpparse.h"
#include "httpsender.h"
#include "relayerconfig.h"
#include "threadstate.h"
#include "jsonscan.h"

#include <QHash>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcReceiver, "outbox.receiver", QtCriticalMsg)

namespace outbox {

namespace {

constexpr int kMaxKeptRequests = 100000;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

// Whether this request fails: a share of them with a failure rate, otherwise all of them when a status is set.
bool failsThisTime(const ReceiverFaults &faults)
{
    return faults.failRate > 0.0 ? QRandomGenerator::global()->generateDouble() < faults.failRate : faults.status != 0;
}

} // namespace

QString ReceiverFaults::problem() const
{
    if (status != 0 && (status < 100 || status > 599))
        return QStringLiteral("the status must be an HTTP status between 100 and 599");
    if (failRate < 0.0 || failRate > 1.0)
        return QStringLiteral("the failure rate must be between 0 and 1");
    if (delayMs < 0)
        return QStringLiteral("the delay must not be negative");
    return {};
}

class ReceiverServer;

// The receiver's state, behind the public class so it can change without breaking the library's ABI. Its
// server thread reads the faults and the key, and records requests, under the mutex or atomically.
class ReceiverPrivate
{
public:
    explicit ReceiverPrivate(Receiver *q) : q(q) { }

    ReceiverFaults faults() const
    {
        QMutexLocker lock(&mutex);
        return currentFaults;
    }
    // The faults of a request with these events: the first rule one of them matches, else the general ones.
    ReceiverFaults faultsFor(const QList<ReceivedEvent> &events) const
    {
        QMutexLocker lock(&mutex);
        for (const ReceiverFaultRule &rule : rules) {
            for (const ReceivedEvent &e : events) {
                if (rule.matches(e.event))
                    return rule.faults;
            }
        }
        return currentFaults;
    }
    QByteArray signingKey() const
    {
        QMutexLocker lock(&mutex);
        return key;
    }
    void record(const ReceivedRequest &request);

    Receiver *const q;
    QThread *thread = nullptr;
    ReceiverServer *server = nullptr;
    quint16 port = 0;
    QHostAddress address;
    mutable QMutex mutex;
    ReceiverFaults currentFaults; // guarded by mutex
    QList<ReceiverFaultRule> rules; // guarded by mutex
    QByteArray key; // the decoded signing key; guarded by mutex
    QList<ReceivedRequest> requests;
    QAtomicInt requestCount = 0;
    QAtomicInt eventCount = 0;
    QAtomicInt countOnly = 0;
    QAtomicInt keep = 1;
};

// The listening socket and its connections, on the receiver's thread.
class ReceiverServer : public QTcpServer
{
public:
    explicit ReceiverServer(ReceiverPrivate *receiver) : m_receiver(receiver) { }

    // Stops listening and lets answers already written reach their clients before the sockets go.
    void shutdown()
    {
        close();
        const QList<QTcpSocket *> sockets = m_connections.keys();
        for (QTcpSocket *socket : sockets) {
            if (socket->bytesToWrite() > 0)
                socket->waitForBytesWritten(500);
            socket->disconnectFromHost();
        }
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        // Answers go out at once, not held back by Nagle's algorithm waiting for the client's delayed ACK.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_connections.insert(socket, Connection{});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { process(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_connections.remove(socket);
            socket->deleteLater();
        });
    }

private:
    struct Connection
    {
        QByteArray buffer;
        bool waiting = false; // an answer is still to be written (delay or hang)
    };

    // What becomes of the connection after an answer, and whether the answer must say so: HTTP/1.1 keeps it
    // open unless told otherwise, HTTP/1.0 only when told.
    enum class Persistence { Close, KeepAliveImplied, KeepAliveStated };

    // The answer is as short as HTTP allows: some clients (Qt's among them) read the head one byte per system
    // call, so every header costs the client a few dozen reads.
    void reply(QTcpSocket *socket, int status, const QByteArray &body,
        const QList<std::pair<QByteArray, QByteArray>> &extra, Persistence persistence)
    {
        QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
        if (!body.isEmpty())
            out += "Content-Type: text/plain; charset=utf-8\r\n";
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        for (const auto &h : extra)
            out += h.first + ": " + h.second + "\r\n";
        if (persistence == Persistence::Close)
            out += "Connection: close\r\n";
        else if (persistence == Persistence::KeepAliveStated)
            out += "Connection: keep-alive\r\n";
        out += "\r\n";
        out += body;
        socket->write(out);
        if (persistence == Persistence::Close)
            socket->disconnectFromHost();
    }

    void process(QTcpSocket *socket)
    {
        auto it = m_connections.find(socket);
        if (it == m_connections.end())
            return;
        it->buffer.append(socket->readAll());
        while (!it->waiting && !it->buffer.isEmpty()) {
            QByteArray &buffer = it->buffer;
            ParsedRequest parsed = parseHttpRequest(buffer);
            if (parsed.state == ParsedRequest::Incomplete)
                return;
            if (parsed.state == ParsedRequest::Bad) {
                reply(socket, parsed.errorStatus, parsed.error + '\n', {}, Persistence::Close);
                buffer.clear();
                return;
            }
            ReceivedRequest request;
            request.receivedAt = QDateTime::currentDateTimeUtc();
            request.method = parsed.method;
            request.target = parsed.target;
            request.message = std::move(parsed.message);
            const Persistence persistence = !parsed.keepAlive ? Persistence::Close
                : parsed.http10                               ? Persistence::KeepAliveStated
                                                              : Persistence::KeepAliveImplied;
            const qsizetype end = parsed.consumed;
            buffer.remove(0, end);
            answer(socket, *it, std::move(request), persistence);
            it = m_connections.find(socket);
            if (it == m_connections.end())
                return;
        }
    }

    void answer(QTcpSocket *socket, Connection &connection, ReceivedRequest request, Persistence persistence)
    {
        ReceiverFaults faults = m_receiver->faults();
        if (m_receiver->countOnly.loadRelaxed() && request.method == "POST") {
            // Counting only: the status and failure rate still apply (a soak needs failures), nothing else does.
            const bool failing = failsThisTime(faults);
            m_receiver->requestCount.fetchAndAddRelaxed(1);
            if (failing) {
                reply(socket, faults.status != 0 ? faults.status : 500, "simulated failure\n", {}, persistence);
                return;
            }
            const bool batch = request.message.header("content-type").startsWith("application/cloudevents-batch+json");
            m_receiver->eventCount.fetchAndAddRelaxed(
                batch ? int(cloudevents::countBatchElements(request.message.body)) : 1);
            reply(socket, 200, {}, {}, persistence);
            return;
        }
        int status = 200;
        QByteArray body;
        QList<std::pair<QByteArray, QByteArray>> extra;

        if (request.method != "POST") {
            request.decoded.error = QStringLiteral("method %1 is not allowed: send CloudEvents with POST")
                                        .arg(QString::fromLatin1(request.method));
            status = 405;
            body = "send CloudEvents with POST\n";
            extra.append(std::pair<QByteArray, QByteArray>("Allow", "POST"));
        } else {
            request.decoded = cloudevents::decode(request.message);
            faults = m_receiver->faultsFor(request.decoded.events);
            QStringList problems;
            if (!request.decoded.error.isEmpty())
                problems.append(request.decoded.error);
            for (const ReceivedEvent &e : std::as_const(request.decoded.events)) {
                for (const QString &p : e.problems)
                    problems.append(e.event.id.isEmpty() ? p : QStringLiteral("%1: %2").arg(e.event.id, p));
            }
            const bool failing = failsThisTime(faults);
            const QByteArray key = m_receiver->signingKey();
            if (!key.isEmpty()) {
                const QString problem = Receiver::webhookSignatureProblem(key, request.message);
                request.signature = problem.isEmpty() ? QStringLiteral("valid") : problem;
                if (!problem.isEmpty()) {
                    problems.prepend(problem);
                    status = 401;
                }
            }
            if (status == 401) {
                body = problems.first().toUtf8() + '\n';
            } else if (!problems.isEmpty()) {
                status = 400;
                body = problems.join(QStringLiteral("; ")).toUtf8() + '\n';
            } else if (failing) {
                status = faults.status != 0 ? faults.status : 500;
                body = "simulated failure (status " + QByteArray::number(status) + ")\n";
                if (faults.retryAfterSeconds >= 0)
                    extra.append(
                        std::pair<QByteArray, QByteArray>("Retry-After", QByteArray::number(faults.retryAfterSeconds)));
            }
        }

        if (faults.dropConnection) {
            request.replyStatus = 0;
            m_receiver->record(request);
            socket->abort();
            return;
        }
        request.replyStatus = faults.hang ? 0 : status;
        m_receiver->record(request);
        if (faults.hang) {
            connection.waiting = true; // until the client gives up and closes the connection
            return;
        }
        if (faults.delayMs > 0) {
            connection.waiting = true;
            QTimer::singleShot(faults.delayMs, socket, [this, socket, status, body, extra, persistence] {
                auto it = m_connections.find(socket);
                if (it == m_connections.end())
                    return;
                it->waiting = false;
                reply(socket, status, body, extra, persistence);
                if (persistence != Persistence::Close)
                    process(socket);
            });
            return;
        }
        reply(socket, status, body, extra, persistence);
    }

    ReceiverPrivate *m_receiver;
    QHash<QTcpSocket *, Connection> m_connections;
};

Receiver::Receiver(QObject *parent) : QObject(parent), d(std::make_unique<ReceiverPrivate>(this)) { }

Receiver::~Receiver()
{
    close();
}

Error Receiver::listen(quint16 port, const QHostAddress &address)
{
    close();
    d->thread = new QThread;
    d->thread->setObjectName(QStringLiteral("outbox-receiver"));
    detail::releaseThreadStateOnFinish(d->thread);
    d->server = new ReceiverServer(d.get());
    d->server->moveToThread(d->thread);
    d->thread->start();
    bool ok = false;
    QString why;
    QMetaObject::invokeMethod(
        d->server,
        [this, &ok, &why, port, address] {
            ok = d->server->listen(address, port);
            if (!ok)
                why = d->server->errorString();
        },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        close();
        return Error(
            Error::Network, QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(why));
    }
    d->address = address;
    d->port = d->server->serverPort();
    return {};
}

void Receiver::close()
{
    if (!d->thread)
        return;
    QMetaObject::invokeMethod(
        d->server,
        [this] {
            d->server->shutdown();
            delete d->server;
        },
        Qt::BlockingQueuedConnection);
    d->server = nullptr;
    d->thread->quit();
    d->thread->wait();
    delete d->thread;
    d->thread = nullptr;
    d->port = 0;
}

bool Receiver::isListening() const
{
    return d->port != 0;
}

quint16 Receiver::port() const
{
    return d->port;
}

QUrl Receiver::url() const
{
    QUrl u;
    u.setScheme(QStringLiteral("http"));
    u.setHost(d->address.toString());
    u.setPort(d->port);
    u.setPath(QStringLiteral("/"));
    return u;
}

bool Receiver::setSigningSecret(const QByteArray &secret)
{
    RelayerConfig parse;
    parse.signingSecret = secret;
    const QByteArray key = parse.signingKey();
    if (!secret.isEmpty() && key.isEmpty())
        return false;
    QMutexLocker lock(&d->mutex);
    d->key = key;
    return true;
}

QString Receiver::webhookSignatureProblem(const QByteArray &key, const HttpMessage &message)
{
    const QByteArray id = message.header("webhook-id");
    const QByteArray timestamp = message.header("webhook-timestamp");
    const QByteArray signatures = message.header("webhook-signature");
    if (id.isNull() || timestamp.isNull() || signatures.isNull())
        return QStringLiteral(
            "no webhook signature (webhook-id, webhook-timestamp and webhook-signature are required)");
    bool ok = false;
    const qint64 seconds = timestamp.toLongLong(&ok);
    if (!ok || qAbs(QDateTime::currentSecsSinceEpoch() - seconds) > 300)
        return QStringLiteral("webhook timestamp '%1' is not within 5 minutes of now")
            .arg(QString::fromLatin1(timestamp).left(40));
    const QByteArray expected = HttpSender::webhookSignature(key, id, seconds, message.body);
    for (const QByteArray &candidate : signatures.split(' ')) {
        // Constant-time comparison: the signature is a secret-derived value.
        const QByteArray c = candidate.trimmed();
        if (c.size() != expected.size())
            continue;
        char diff = 0;
        for (qsizetype i = 0; i < c.size(); ++i)
            diff |= char(c.at(i) ^ expected.at(i));
        if (diff == 0)
            return {};
    }
    return QStringLiteral("webhook signature does not match (wrong secret, or the body was changed)");
}

void Receiver::setFaults(const ReceiverFaults &faults)
{
    QMutexLocker lock(&d->mutex);
    d->currentFaults = faults;
}

ReceiverFaults Receiver::faults() const
{
    return d->faults();
}

void Receiver::setFaultRules(const QList<ReceiverFaultRule> &rules)
{
    QMutexLocker lock(&d->mutex);
    d->rules = rules;
}

QList<ReceiverFaultRule> Receiver::faultRules() const
{
    QMutexLocker lock(&d->mutex);
    return d->rules;
}

void Receiver::setRecording(Recording recording)
{
    d->countOnly.storeRelaxed(recording == Recording::CountOnly ? 1 : 0);
    d->keep.storeRelaxed(recording == Recording::Full ? 1 : 0);
}

void ReceiverPrivate::record(const ReceivedRequest &request)
{
    if (keep.loadRelaxed()) {
        QMutexLocker lock(&mutex);
        requests.append(request);
        if (requests.size() > kMaxKeptRequests)
            requests.removeFirst();
    }
    requestCount.fetchAndAddRelaxed(1);
    eventCount.fetchAndAddRelaxed(int(request.decoded.events.size()));
    Q_EMIT q->requestReceived(request);
}

QList<ReceivedRequest> Receiver::requests() const
{
    QMutexLocker lock(&d->mutex);
    return d->requests;
}

QList<ReceivedEvent> Receiver::events() const
{
    QMutexLocker lock(&d->mutex);
    QList<ReceivedEvent> all;
    for (const ReceivedRequest &r : d->requests)
        all.append(r.decoded.events);
    return all;
}

int Receiver::requestCount() const
{
    return d->requestCount.loadRelaxed();
}

int Receiver::eventCount() const
{
    return d->eventCount.loadRelaxed();
}

void Receiver::clear()
{
    QMutexLocker lock(&d->mutex);
    d->requests.clear();
    d->requestCount.storeRelaxed(0);
    d->eventCount.storeRelaxed(0);
}

} // namespace outbox
