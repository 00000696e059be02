#include "httpsender.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QQueue>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QThread>
#include <QTimer>

Q_LOGGING_CATEGORY(lcHttp, "outbox.http", QtCriticalMsg)

namespace outbox {

// The network side of HttpSender, on its own thread: a queue of requests, at most `concurrency` of them
// in flight, a deadline for each. Results go back to the HttpSender's thread as queued calls.
class NetworkWorker : public QObject
{
public:
    NetworkWorker(HttpSender *owner, const QUrl &target, int concurrency, int timeoutMs)
        : m_owner(owner), m_target(target), m_concurrency(qMax(1, concurrency)), m_timeoutMs(timeoutMs)
    {
    }

    // Runs on the network thread.
    void enqueue(const QList<std::pair<quint64, HttpMessage>> &jobs)
    {
        if (!m_network) {
            m_network = new QNetworkAccessManager(this);
            m_network->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
        }
        for (const auto &job : jobs)
            m_queue.enqueue(job);
        pump();
    }

    void addCaCertificates(const QList<QSslCertificate> &certificates)
    {
        m_ssl = QSslConfiguration::defaultConfiguration();
        m_ssl.addCaCertificates(certificates);
        m_customSsl = true;
    }

    QList<quint64> takeQueued()
    {
        QList<quint64> ids;
        for (const auto &job : std::as_const(m_queue))
            ids.append(job.first);
        m_queue.clear();
        return ids;
    }

private:
    void pump()
    {
        while (m_inFlight < m_concurrency && !m_queue.isEmpty())
            start(m_queue.dequeue());
        if (m_queue.size() < m_concurrency) {
            QMetaObject::invokeMethod(m_owner, [owner = m_ownerGuard()] {
                if (owner && owner->m_lowWater)
                    owner->m_lowWater();
            }, Qt::QueuedConnection);
        }
    }

    QPointer<HttpSender> m_ownerGuard() const { return QPointer<HttpSender>(m_owner); }

    void start(const std::pair<quint64, HttpMessage> &job)
    {
        QNetworkRequest request(m_target);
        request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        if (m_customSsl)
            request.setSslConfiguration(m_ssl);
        for (const auto &h : job.second.headers)
            request.setRawHeader(h.first, h.second);
        if (job.second.header("content-type").isNull() && !job.second.body.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/octet-stream"));

        ++m_inFlight;
        QElapsedTimer clock;
        clock.start();
        QNetworkReply *reply = m_network->post(request, job.second.body);
        auto *deadline = new QTimer(reply);
        deadline->setSingleShot(true);
        deadline->setTimerType(Qt::PreciseTimer);
        auto timedOut = std::make_shared<bool>(false);
        connect(deadline, &QTimer::timeout, reply, [reply, timedOut] {
            *timedOut = true;
            reply->abort();
        });
        deadline->start(m_timeoutMs);
        const quint64 id = job.first;
        // Certificates are verified (Qt's default); a failure is reported with what was wrong with it.
        auto tlsProblems = std::make_shared<QStringList>();
        connect(reply, &QNetworkReply::sslErrors, this, [tlsProblems](const QList<QSslError> &errors) {
            for (const QSslError &e : errors)
                tlsProblems->append(e.errorString());
        });
        connect(reply, &QNetworkReply::finished, this, [this, reply, id, clock, timedOut, tlsProblems] {
            finish(reply, id, clock.elapsed(), *timedOut, *tlsProblems);
        });
    }

    void finish(QNetworkReply *reply, quint64 id, qint64 elapsedMs, bool timedOut, const QStringList &tlsProblems)
    {
        reply->deleteLater();
        --m_inFlight;
        DeliveryResult result;
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        if (timedOut) {
            result = DeliveryResult::retry(QStringLiteral("timed out after %1 ms").arg(m_timeoutMs));
        } else if (status.isValid()) {
            result = HttpSender::classify(status.toInt(), reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray(),
                                          reply->read(4096), reply->rawHeader("retry-after"));
            if (result.outcome != DeliveryResult::Outcome::Sent && status.toInt() / 100 == 3)
                result.error += QStringLiteral(" (redirect to '%1' not followed)").arg(QString::fromUtf8(reply->rawHeader("location")));
        } else if (!tlsProblems.isEmpty()) {
            result = DeliveryResult::retry(QStringLiteral("TLS certificate of %1 not accepted: %2")
                                               .arg(m_target.host(), tlsProblems.join(QStringLiteral("; "))));
        } else {
            result = DeliveryResult::retry(reply->errorString());
        }
        result.durationMs = elapsedMs;
        qCDebug(lcHttp) << "delivery" << id << "status" << result.httpStatus << result.error;
        QMetaObject::invokeMethod(m_owner, [owner = m_ownerGuard(), id, result] {
            if (owner)
                owner->deliver(id, result);
        }, Qt::QueuedConnection);
        pump();
    }

    HttpSender *m_owner;
    QUrl m_target;
    int m_concurrency;
    int m_timeoutMs;
    int m_inFlight = 0;
    QNetworkAccessManager *m_network = nullptr;
    QQueue<std::pair<quint64, HttpMessage>> m_queue;
    QSslConfiguration m_ssl;
    bool m_customSsl = false;
};

HttpSender::HttpSender(const QUrl &target, ContentMode mode, int concurrency, int timeoutMs, QObject *parent)
    : QObject(parent), m_mode(mode), m_thread(new QThread), m_network(new NetworkWorker(this, target, concurrency, timeoutMs))
{
    m_thread->setObjectName(QStringLiteral("outbox-http"));
    m_network->moveToThread(m_thread);
    m_thread->start();
}

void HttpSender::addCaCertificates(const QList<QSslCertificate> &certificates)
{
    QMetaObject::invokeMethod(m_network, [network = m_network, certificates] { network->addCaCertificates(certificates); },
                              Qt::BlockingQueuedConnection);
}

HttpSender::~HttpSender()
{
    // The network client goes with its thread; requests still in flight are aborted.
    QMetaObject::invokeMethod(m_network, [network = m_network] { delete network; }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

void HttpSender::send(const QList<OutboxEvent> &events, const ResultHandler &handler)
{
    if (events.isEmpty())
        return;
    // Encoding happens here, on the relayer's thread; the network thread only sends.
    QList<std::pair<quint64, HttpMessage>> jobs;
    if (m_mode == ContentMode::Batch) {
        Pending p{{}, handler};
        for (const OutboxEvent &e : events)
            p.sequences.append(e.sequence);
        const quint64 id = m_nextJob++;
        m_pending.insert(id, p);
        jobs.append({id, cloudevents::encodeBatch(events)});
    } else {
        for (const OutboxEvent &e : events) {
            const quint64 id = m_nextJob++;
            m_pending.insert(id, Pending{{e.sequence}, handler});
            jobs.append({id, cloudevents::encode(e, m_mode)});
        }
    }
    QMetaObject::invokeMethod(m_network, [network = m_network, jobs] { network->enqueue(jobs); }, Qt::QueuedConnection);
}

void HttpSender::cancelQueued()
{
    QList<quint64> dropped;
    QMetaObject::invokeMethod(m_network, [network = m_network, &dropped] { dropped = network->takeQueued(); },
                              Qt::BlockingQueuedConnection);
    released(dropped);
}

void HttpSender::released(const QList<quint64> &jobs)
{
    for (quint64 id : jobs) {
        const Pending p = m_pending.take(id);
        for (qint64 seq : p.sequences)
            p.handler(seq, DeliveryResult{}, true);
    }
}

void HttpSender::deliver(quint64 job, const DeliveryResult &result)
{
    const Pending p = m_pending.take(job);
    for (qint64 seq : p.sequences)
        p.handler(seq, result, false);
}

qint64 HttpSender::parseRetryAfter(const QByteArray &value)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return -1;
    bool ok = false;
    const qint64 seconds = v.toLongLong(&ok);
    if (ok)
        return seconds >= 0 ? seconds * 1000 : -1;
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(v), Qt::RFC2822Date);
    if (!when.isValid())
        return -1;
    return qMax<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(when));
}

DeliveryResult HttpSender::classify(int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body,
                                    const QByteArray &retryAfter)
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
    return r;
}

} // namespace outbox
