// SPDX-License-Identifier: MIT
#include "httpsender.h"

#include "httpconnection.h"
#include "httpparse.h"
#include "httpwrite.h"
#include "threadstate.h"

#include <QDateTime>
#include <QFile>
#include <QLocale>
#include <QLoggingCategory>
#include <QMessageAuthenticationCode>
#include <QNetworkProxy>
#include <QPointer>
#include <QQueue>
#include <QSslConfiguration>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <unordered_map>
#include <memory>

Q_LOGGING_CATEGORY(lcHttp, "outbox.http", QtCriticalMsg)

// Why a client of our own rather than QNetworkAccessManager (measured; README, "Performance"):
// * QNAM leaves Nagle's algorithm on and writes a body over 16 KiB in pieces, so against any receiver that
//   delays its ACKs (Linux does, for 40 ms) every such request stalls; its sockets cannot be reached to set
//   TCP_NODELAY. Here each request is one write on a TCP_NODELAY socket.
// * QNAM re-sends a POST on its own when a connection drops before the answer, and posts twice to a URL with
//   user:password@ (first without credentials). The relayer must decide every request itself, and record
//   every one the receiver may have processed.
// * QNAM opens at most 6 connections per host and starts the clock of a queued request before it is sent.
//   Here every request in flight has its own connection, and its deadline starts when it is written.
// What relaying needs from QNAM is kept: TLS with the system's CAs plus extra ones, peer verification,
// client certificates, keep-alive, proxies (an application proxy, or http_proxy/https_proxy/no_proxy).

namespace outbox {

namespace {

bool envProxyExcluded(const QString &host)
{
    const QString list = qEnvironmentVariable("no_proxy", qEnvironmentVariable("NO_PROXY"));
    for (QString entry : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        entry = entry.trimmed();
        if (entry == QLatin1String("*"))
            return true;
        if (entry.startsWith(QLatin1Char('.')))
            entry.remove(0, 1);
        if (host.compare(entry, Qt::CaseInsensitive) == 0
            || host.endsWith(QLatin1Char('.') + entry, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

// The proxy for the target: the application's, if it set one; else the one the environment names.
QNetworkProxy proxyFor(const QUrl &target, bool https)
{
    const QList<QNetworkProxy> app = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(target));
    if (!app.isEmpty() && app.first().type() != QNetworkProxy::NoProxy
        && app.first().type() != QNetworkProxy::DefaultProxy)
        return app.first();
    const char *names[] = {
        https ? "https_proxy" : "http_proxy", https ? "HTTPS_PROXY" : "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (const char *name : names) {
        const QString value = qEnvironmentVariable(name);
        if (value.isEmpty())
            continue;
        if (envProxyExcluded(target.host()))
            break;
        const QUrl url = QUrl::fromUserInput(value);
        if (!url.isValid() || url.host().isEmpty())
            break;
        const bool socks = url.scheme().startsWith(QLatin1String("socks"));
        return QNetworkProxy(socks ? QNetworkProxy::Socks5Proxy : QNetworkProxy::HttpProxy, url.host(),
            quint16(url.port(socks ? 1080 : 8080)), url.userName(), url.password());
    }
    return QNetworkProxy(QNetworkProxy::NoProxy);
}

} // namespace

// The network side of HttpSender, on its own thread: a queue of requests, at most `concurrency` of them
// in flight, each on a connection of its own, with a deadline that starts when it is written. Each outcome
// goes back to the HttpSender's thread as soon as it is known; those that pile up while that thread is busy
// (writing earlier results) go together, so the relayer writes them with one statement.
class NetworkWorker : public QObject
{
public:
    struct Job
    {
        quint64 group = 0;
        QList<qint64> sequences;
        HttpMessage message;
        QByteArray webhookId;
        QList<OutboxEvent> batch; // batched mode: encoded here, when the request starts; kept to split it on 413
        qint64 leaseUntil = 0; // steady-clock ms after which the request must not start (0: no lease)
    };

    // A lease as far as this process can tell: its length less a margin for the time the claim took.
    static qint64 leaseDeadline(qint64 leaseMs)
    {
        return leaseMs > 0 ? steadyMs() + leaseMs - qMin<qint64>(1000, leaseMs / 4) : 0;
    }
    static qint64 steadyMs()
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    std::atomic<qint64> m_renewedUntil{0}; // set from the relayer's thread

    NetworkWorker(HttpSender *owner, const HttpSenderOptions &options)
        : m_owner(owner), m_options(options), m_concurrency(qMax(1, options.concurrency)), m_lowWaterMark(m_concurrency)
    {
        HttpEndpoint &e = m_endpoint;
        e.target = m_options.target;
        e.https = e.target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
        e.port = quint16(e.target.port(e.https ? 443 : 80));
        e.proxy = proxyFor(e.target, e.https);
        // A plain-http target behind an HTTP proxy: the request goes to the proxy in absolute form.
        e.absoluteForm = !e.https && e.proxy.type() == QNetworkProxy::HttpProxy;
        e.timeoutMs = m_options.timeoutMs;
        if (e.https) {
            e.ssl = QSslConfiguration::defaultConfiguration();
            if (!m_options.caCertificates.isEmpty())
                e.ssl.addCaCertificates(m_options.caCertificates);
            if (!m_options.clientCertificate.isNull()) {
                e.ssl.setLocalCertificate(m_options.clientCertificate);
                e.ssl.setPrivateKey(m_options.clientKey);
            }
            e.ssl.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        }
        m_head = requestHead({e.target, e.absoluteForm, m_options.headers, e.absoluteForm ? e.proxy.user() : QString(),
            e.absoluteForm ? e.proxy.password() : QString()});
        m_gather = new QTimer(this);
        m_gather->setSingleShot(true);
        m_gather->setTimerType(Qt::PreciseTimer);
        m_gather->setInterval(HttpSender::kGatherMs);
        connect(m_gather, &QTimer::timeout, this, [this] { m_owner->handOver(); });
    }

    ~NetworkWorker() override
    {
        qDeleteAll(m_connections);
        qDeleteAll(m_dead);
    }

    // Runs on the network thread.
    void enqueue(quint64 group, const QList<Job> &jobs)
    {
        Group &g = m_groups[group];
        g.remaining += int(jobs.size());
        for (const Job &job : jobs)
            m_queue.enqueue(job);
        m_lowWaterSignalled = false;
        pump();
    }

    void resume() { pump(); }

    void setLowWaterMark(int queuedRequests) { m_lowWaterMark = queuedRequests > 0 ? queuedRequests : m_concurrency; }

    // Every queued request ends as "released", unsent.
    void releaseQueued()
    {
        const QQueue<Job> queued = std::exchange(m_queue, {});
        for (const Job &job : queued)
            finishJob(job, DeliveryResult{}, true);
    }

private:
    struct Group
    {
        int remaining = 0;
    };

    void pump()
    {
        while (!m_queue.isEmpty()) {
            if (!withinUnwrittenBound()) {
                m_owner->m_held.store(true, std::memory_order_release); // deliverPending() pumps again
                if (!withinUnwrittenBound())
                    break;
                m_owner->m_held.store(false, std::memory_order_release);
            }
            HttpConnection *c = freeConnection();
            if (!c)
                break;
            Job job = m_queue.dequeue();
            if (job.leaseUntil > 0
                && steadyMs() >= qMax(job.leaseUntil, m_renewedUntil.load(std::memory_order_relaxed))) {
                finishJob(job, DeliveryResult{}, true); // its lease ran out before it could start
                continue;
            }
            start(c, std::move(job));
        }
        if (m_queue.size() < m_lowWaterMark && !m_lowWaterSignalled) {
            m_lowWaterSignalled = true;
            QMetaObject::invokeMethod(
                m_owner,
                [owner = QPointer<HttpSender>(m_owner)] {
                    if (!owner)
                        return;
                    owner->m_low = true;
                    if (owner->m_lowWater)
                        owner->m_lowWater();
                },
                Qt::QueuedConnection);
        }
    }

    // Whether one more request may start: requests on the wire plus answers not yet handled by the relayer
    // (being written, or waiting to be) stay under twice `concurrency`. So while the relayer writes one group of
    // answers (up to `concurrency`), the next group is already on the wire, and a relayer killed at any moment
    // has at most 2 x `concurrency` events sent whose outcome is not written.
    bool withinUnwrittenBound() const
    {
        const int unwritten = m_owner->m_answeredUnhandled.load(std::memory_order_acquire) + m_answering;
        return int(m_jobs.size()) + unwritten < 2 * m_concurrency;
    }

    // An idle open connection, else a new one while fewer than `concurrency` exist.
    HttpConnection *freeConnection()
    {
        for (HttpConnection *c : m_connections) {
            if (c->isBusy() || !c->isConnected())
                continue;
            if (!c->isReusable()) {
                dropConnection(c);
                return freeConnection();
            }
            return c;
        }
        if (int(m_connections.size()) >= m_concurrency)
            return nullptr;
        auto *c = new HttpConnection(
            m_endpoint,
            [this](
                HttpConnection *c, const DeliveryResult &result, bool reusable) { finishRequest(c, result, reusable); },
            [this](HttpConnection *c) { dropConnection(c); });
        m_connections.append(c);
        return c;
    }

    // Closes the connection. It may be dropped from inside one of its own calls, so the object goes later.
    void dropConnection(HttpConnection *c)
    {
        m_connections.removeOne(c);
        m_jobs.erase(c);
        c->close();
        m_dead.append(c);
        if (m_dead.size() == 1)
            QMetaObject::invokeMethod(
                this, [this] { qDeleteAll(std::exchange(m_dead, {})); }, Qt::QueuedConnection);
    }

    void start(HttpConnection *c, Job job)
    {
        if (!job.batch.isEmpty()) {
            job.message = cloudevents::encodeBatch(job.batch);
            // Over the byte cap (the relayer's estimate was short): send the first half now, the rest next.
            if (job.message.body.size() > m_options.maxBatchBytes && job.batch.size() > 1) {
                Job rest = splitOff(job);
                m_queue.prepend(rest);
                m_groups[job.group].remaining += 1;
                job.message = cloudevents::encodeBatch(job.batch);
            }
        }
        QByteArray request = writeRequest(m_head, job.message, m_options.signingKey, job.webhookId,
            m_options.signingKey.isEmpty() ? 0 : QDateTime::currentSecsSinceEpoch());
        m_jobs[c] = std::move(job);
        c->start(std::move(request));
    }

    // The second half of a batch job, taken off it.
    static Job splitOff(Job &job)
    {
        const qsizetype half = job.batch.size() / 2;
        Job rest{job.group, job.sequences.mid(half), {}, {}, job.batch.mid(half)};
        rest.webhookId = webhookIdFor(rest.batch);
        job.sequences = job.sequences.mid(0, half);
        job.batch = job.batch.mid(0, half);
        job.webhookId = webhookIdFor(job.batch);
        return rest;
    }

public:
    static QByteArray webhookIdFor(const QList<OutboxEvent> &batch)
    {
        // A batch has no id of its own: name it after its first event and its size (stable across retries
        // of the same batch, different for a split half).
        return batch.isEmpty() ? QByteArray() : (batch.first().id + QStringLiteral("+%1").arg(batch.size())).toUtf8();
    }

private:
    // A connection's request ended: its job's outcome goes back to the relayer.
    void finishRequest(HttpConnection *c, const DeliveryResult &result, bool reusable)
    {
        auto it = m_jobs.find(c);
        Job job = std::move(it->second);
        m_jobs.erase(it);
        if (!reusable)
            dropConnection(c);
        // A batch too large for the receiver: split it and send the halves at once; only one event that
        // is still too large fails.
        if (result.httpStatus == 413 && job.batch.size() > 1) {
            Job rest = splitOff(job);
            m_queue.prepend(rest);
            m_queue.prepend(job);
            m_groups[job.group].remaining += 1;
            pump();
            return;
        }
        // The next request starts before this one's outcome is handed over: the connection is free now (the
        // answer counts as unwritten meanwhile).
        m_answering = 1;
        pump();
        m_answering = 0;
        qCDebug(lcHttp) << "delivery" << job.sequences << "status" << result.httpStatus << result.error;
        finishJob(job, result, false);
    }

    void finishJob(const Job &job, const DeliveryResult &result, bool released)
    {
        auto it = m_groups.find(job.group);
        QList<HttpSender::Outcome> outcomes;
        outcomes.reserve(job.sequences.size());
        for (qint64 seq : job.sequences)
            outcomes.append(HttpSender::Outcome{seq, result, released});
        const bool last = --it->remaining == 0;
        if (last)
            m_groups.erase(it);
        // Handed over at once when the relayer must act (a batch ended, leases given back), when no request is
        // on the wire (no more answers are coming soon), or when `concurrency` answers wait; otherwise after
        // at most kGatherMs, so that one write-back takes the answers of all requests on the wire instead of
        // the first alone: from a database server each write-back is a round trip.
        const bool now = last || released || m_jobs.empty();
        if (!m_owner->post(job.group, std::move(outcomes), last, released ? 0 : 1, now) && !m_gather->isActive())
            m_gather->start();
    }

    HttpSender *m_owner;
    HttpSenderOptions m_options;
    int m_concurrency;
    int m_lowWaterMark;
    int m_answering = 0; // 1 while finishRequest() pumps: its answer is read but not yet posted
    QTimer *m_gather; // hands over answers that wait for others
    bool m_lowWaterSignalled = false;
    HttpEndpoint m_endpoint;
    QByteArray m_head;
    QList<HttpConnection *> m_connections;
    std::unordered_map<HttpConnection *, Job> m_jobs; // the job of each busy connection
    QList<HttpConnection *> m_dead; // dropped, deleted on the next turn of the event loop
    QQueue<Job> m_queue;
    QHash<quint64, Group> m_groups;
};

HttpSenderOptions HttpSenderOptions::from(const RelayerConfig &config)
{
    HttpSenderOptions options;
    options.target = config.targetUrl;
    options.mode = config.contentMode;
    options.concurrency = config.concurrency;
    options.timeoutMs = config.requestTimeoutMs;
    if (!config.caCertificatesFile.isEmpty())
        options.caCertificates = QSslCertificate::fromPath(config.caCertificatesFile, QSsl::Pem);
    if (!config.clientCertificateFile.isEmpty()) {
        options.clientCertificate = QSslCertificate::fromPath(config.clientCertificateFile, QSsl::Pem).value(0);
        options.clientKey = readPrivateKey(config.clientKeyFile);
    }
    options.headers = config.headers;
    options.signingKey = config.signingKey();
    options.maxBatchBytes = config.maxBatchBytes;
    return options;
}

QSslKey HttpSenderOptions::readPrivateKey(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QByteArray pem = file.readAll();
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec}) {
        QSslKey key(pem, algorithm, QSsl::Pem);
        if (!key.isNull())
            return key;
    }
    return {};
}

HttpSender::HttpSender(const HttpSenderOptions &options, QObject *parent)
    : Transport(parent),
      m_mode(options.mode),
      m_concurrency(qMax(1, options.concurrency)),
      m_maxBatchBytes(options.maxBatchBytes),
      m_thread(new QThread),
      m_network(new NetworkWorker(this, options))
{
    m_thread->setObjectName(QStringLiteral("outbox-http"));
    detail::releaseThreadStateOnFinish(m_thread);
    m_network->moveToThread(m_thread);
    m_thread->start();
}

void HttpSender::setLowWaterHandler(const std::function<void()> &handler, int queuedRequests)
{
    m_lowWater = handler;
    QMetaObject::invokeMethod(
        m_network, [network = m_network, queuedRequests] { network->setLowWaterMark(queuedRequests); },
        Qt::BlockingQueuedConnection);
}

HttpSender::~HttpSender()
{
    // The network client goes with its thread; requests still in flight are aborted.
    QMetaObject::invokeMethod(
        m_network, [network = m_network] { delete network; }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

void HttpSender::leasesRenewed(qint64 leaseMs)
{
    m_network->m_renewedUntil.store(NetworkWorker::leaseDeadline(leaseMs), std::memory_order_relaxed);
}

void HttpSender::send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64 leaseMs)
{
    if (events.isEmpty())
        return;
    // One request per event: encoded here, on the relayer's thread, as the network thread is the busier one
    // then. A batch: encoded on the network thread, which is the idle one then (the relayer's thread, busy
    // with the database, sets the pace); cut here into requests that stay under the byte cap.
    m_low = false;
    const quint64 group = m_nextGroup++;
    m_handlers.insert(group, handler);
    QList<NetworkWorker::Job> jobs;
    if (m_mode == ContentMode::Batch) {
        NetworkWorker::Job job{group, {}, {}, {}, {}};
        qint64 bytes = 2;
        auto flush = [&] {
            job.webhookId = NetworkWorker::webhookIdFor(job.batch);
            jobs.append(std::move(job));
            job = NetworkWorker::Job{group, {}, {}, {}, {}};
            bytes = 2;
        };
        for (const OutboxEvent &e : events) {
            // An estimate of the event's JSON: its data, its attributes, and room for escaping.
            qint64 size = e.data.size() + 160
                + (e.id.size() + e.type.size() + e.source.size() + e.subject.size() + e.contentType.size()) * 2;
            for (auto it = e.extensions.begin(); it != e.extensions.end(); ++it)
                size += (it.key().size() + it.value().toString().size()) * 2 + 8;
            if (!job.batch.isEmpty() && bytes + size > m_maxBatchBytes)
                flush();
            job.sequences.append(e.sequence);
            job.batch.append(e);
            bytes += size;
        }
        flush();
    } else {
        jobs.reserve(events.size());
        for (const OutboxEvent &e : events)
            jobs.append(NetworkWorker::Job{group, {e.sequence}, cloudevents::encode(e, m_mode), e.id.toUtf8(), {}});
    }
    if (const qint64 until = NetworkWorker::leaseDeadline(leaseMs)) {
        for (NetworkWorker::Job &job : jobs)
            job.leaseUntil = until;
    }
    QMetaObject::invokeMethod(
        m_network, [network = m_network, group, jobs = std::move(jobs)] { network->enqueue(group, jobs); },
        Qt::QueuedConnection);
}

void HttpSender::cancelQueued()
{
    QMetaObject::invokeMethod(
        m_network, [network = m_network] { network->releaseQueued(); }, Qt::QueuedConnection);
}

bool HttpSender::post(quint64 group, QList<Outcome> &&outcomes, bool last, int answeredRequests, bool now)
{
    m_answeredUnhandled.fetch_add(answeredRequests, std::memory_order_acq_rel);
    QMutexLocker lock(&m_pendingMutex);
    Pending &p = m_pending[group];
    p.outcomes += std::move(outcomes);
    p.last = p.last || last;
    p.answeredRequests += answeredRequests;
    m_pendingAnswered += answeredRequests;
    if (m_deliveryPosted)
        return true; // the call already on its way takes these too
    if (!now && m_pendingAnswered < m_concurrency)
        return false;
    m_deliveryPosted = true;
    lock.unlock();
    QMetaObject::invokeMethod(this, &HttpSender::deliverPending, Qt::QueuedConnection);
    return true;
}

void HttpSender::handOver()
{
    QMutexLocker lock(&m_pendingMutex);
    if (m_deliveryPosted || m_pending.isEmpty())
        return;
    m_deliveryPosted = true;
    lock.unlock();
    QMetaObject::invokeMethod(this, &HttpSender::deliverPending, Qt::QueuedConnection);
}

void HttpSender::deliverPending()
{
    QHash<quint64, Pending> pending;
    {
        QMutexLocker lock(&m_pendingMutex);
        pending = std::exchange(m_pending, {});
        m_pendingAnswered = 0;
        m_deliveryPosted = false;
    }
    // In the order the groups were sent: an earlier batch's results are written first.
    QList<quint64> groups = pending.keys();
    std::sort(groups.begin(), groups.end());
    int handled = 0;
    for (quint64 group : std::as_const(groups)) {
        const Pending &p = pending[group];
        const ResultHandler handler = p.last ? m_handlers.take(group) : m_handlers.value(group);
        if (handler)
            handler(p.outcomes, p.last);
        handled += p.answeredRequests;
    }
    m_answeredUnhandled.fetch_sub(handled, std::memory_order_acq_rel);
    if (m_held.exchange(false, std::memory_order_acq_rel))
        QMetaObject::invokeMethod(
            m_network, [network = m_network] { network->resume(); }, Qt::QueuedConnection);
}

QByteArray HttpSender::webhookSignature(
    const QByteArray &key, const QByteArray &id, qint64 timestamp, const QByteArray &body)
{
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, key);
    mac.addData(id);
    mac.addData(".");
    mac.addData(QByteArray::number(timestamp));
    mac.addData(".");
    mac.addData(body);
    return "v1," + mac.result().toBase64();
}

qint64 HttpSender::parseRetryAfter(const QByteArray &value)
{
    constexpr qint64 maxMs = 24LL * 3600 * 1000;
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return -1;
    // delay-seconds: 1*DIGIT. Any number of digits may come; clamp rather than overflow.
    if (std::all_of(v.cbegin(), v.cend(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return v.size() > 6 ? maxMs : qMin(v.toLongLong() * 1000, maxMs);
    // HTTP-date: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), and the obsolete forms RFC 9110 says to accept.
    QDateTime when = QDateTime::fromString(QString::fromLatin1(v), Qt::RFC2822Date);
    if (!when.isValid()) {
        const QString text = QString::fromLatin1(v);
        for (const char *format : {"ddd, dd MMM yyyy HH:mm:ss 'GMT'", "dddd, dd-MMM-yy HH:mm:ss 'GMT'",
                 "ddd MMM d HH:mm:ss yyyy", "ddd MMM  d HH:mm:ss yyyy"}) {
            when = QLocale::c().toDateTime(text, QLatin1String(format));
            if (when.isValid()) {
                if (when.date().year() < 1970)
                    when = when.addYears(100);
                when.setTimeSpec(Qt::UTC);
                break;
            }
        }
    }
    if (!when.isValid())
        return -1;
    return qBound<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(when), maxMs);
}

DeliveryResult HttpSender::classify(
    int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body, const QByteArray &retryAfter)
{
    if (httpStatus >= 200 && httpStatus < 300)
        return DeliveryResult::sent(httpStatus);
    QString text = QStringLiteral("HTTP %1").arg(httpStatus);
    if (!reasonPhrase.isEmpty())
        text += QLatin1Char(' ') + QString::fromUtf8(reasonPhrase);
    const QString detail = QString::fromUtf8(body).simplified().left(500);
    if (!detail.isEmpty())
        text += QStringLiteral(": ") + detail;
    const bool retryable = httpStatus >= 500 || httpStatus == 408 || httpStatus == 429;
    DeliveryResult r = retryable ? DeliveryResult::retry(text, httpStatus) : DeliveryResult::failed(text, httpStatus);
    r.retryAfterMs = parseRetryAfter(retryAfter);
    // A gateway that cannot reach the service, a service that says it is unavailable, rate limiting: the
    // target's state, not the event's. (A 500 may be this event's fault: it counts.)
    if (httpStatus == 502 || httpStatus == 503 || httpStatus == 504 || httpStatus == 429)
        r.cause = DeliveryResult::Cause::TargetUnavailable;
    return r;
}

} // namespace outbox
