// SPDX-License-Identifier: MIT
#include "httpsender.h"

#include "networkworker.h"
#include "threadstate.h"

#include <QDateTime>
#include <QFile>
#include <QLocale>
#include <QMessageAuthenticationCode>
#include <QThread>

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
        // Cut where the next event would take a request past the cap. A request's events are a slice of the
        // list: the whole list (the usual case) is shared, not copied event by event.
        qsizetype from = 0;
        qint64 bytes = 2;
        auto flush = [&](qsizetype to) {
            NetworkWorker::Job job{group, {}, {}, {}, {}};
            job.batch = from == 0 && to == events.size() ? events : events.mid(from, to - from);
            job.sequences.reserve(job.batch.size());
            for (const OutboxEvent &e : std::as_const(job.batch))
                job.sequences.append(e.sequence);
            job.webhookId = NetworkWorker::webhookIdFor(job.batch);
            jobs.append(std::move(job));
            from = to;
            bytes = 2;
        };
        for (qsizetype i = 0; i < events.size(); ++i) {
            const OutboxEvent &e = events.at(i);
            // An estimate of the event's JSON: its data, its attributes, and room for escaping.
            qint64 size = e.data.size() + 160
                + (e.id.size() + e.type.size() + e.source.size() + e.subject.size() + e.contentType.size()) * 2;
            for (auto it = e.extensions.begin(); it != e.extensions.end(); ++it)
                size += (it.key().size() + it.value().toString().size()) * 2 + 8;
            if (i > from && bytes + size > m_maxBatchBytes)
                flush(i);
            bytes += size;
        }
        flush(events.size());
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
