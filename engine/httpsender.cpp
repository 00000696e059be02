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
// in flight, a deadline for each. The outcomes of a send() call go back to the HttpSender's thread in one
// queued call when the last of its requests ends, so the relayer's thread wakes once per batch.
class NetworkWorker : public QObject
{
public:
    struct Job
    {
        quint64 group = 0;
        QList<qint64> sequences;
        HttpMessage message;
        QList<OutboxEvent> batch; // batched mode: encoded here, when the request starts
    };

    NetworkWorker(HttpSender *owner, const QUrl &target, int concurrency, int timeoutMs)
        : m_owner(owner), m_target(target), m_concurrency(qMax(1, concurrency)), m_timeoutMs(timeoutMs),
          m_lowWaterMark(m_concurrency), m_deadlines(new QTimer(this))
    {
        m_deadlines->setSingleShot(true);
        m_deadlines->setTimerType(Qt::PreciseTimer);
        connect(m_deadlines, &QTimer::timeout, this, &NetworkWorker::expireDeadlines);
        m_template.setUrl(m_target);
        m_template.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        m_https = m_target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    }

    // Runs on the network thread.
    void enqueue(quint64 group, const QList<Job> &jobs)
    {
        if (!m_network) {
            m_network = new QNetworkAccessManager(this);
            m_network->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
        }
        Group &g = m_groups[group];
        g.remaining += int(jobs.size());
        for (const Job &job : jobs) {
            g.outcomes.reserve(g.outcomes.size() + job.sequences.size());
            m_queue.enqueue(job);
        }
        m_lowWaterSignalled = false;
        pump();
    }

    void addCaCertificates(const QList<QSslCertificate> &certificates)
    {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.addCaCertificates(certificates);
        m_template.setSslConfiguration(ssl);
    }

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
        QList<HttpSender::Outcome> outcomes;
    };
    struct InFlight
    {
        Job job;
        QNetworkReply *reply = nullptr;
        QElapsedTimer clock;
        bool timedOut = false;
        QStringList tlsProblems;
    };

    void pump()
    {
        while (m_inFlight.size() < m_concurrency && !m_queue.isEmpty())
            start(m_queue.dequeue());
        if (m_queue.size() < m_lowWaterMark && !m_lowWaterSignalled) {
            m_lowWaterSignalled = true;
            QMetaObject::invokeMethod(m_owner, [owner = QPointer<HttpSender>(m_owner)] {
                if (!owner)
                    return;
                owner->m_low = true;
                if (owner->m_lowWater)
                    owner->m_lowWater();
            }, Qt::QueuedConnection);
        }
    }

    void start(Job job)
    {
        if (!job.batch.isEmpty())
            job.message = cloudevents::encodeBatch(std::exchange(job.batch, {}));
        QNetworkRequest request(m_template);
        for (const auto &h : job.message.headers)
            request.setRawHeader(h.first, h.second);
        if (job.message.header("content-type").isNull() && !job.message.body.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/octet-stream"));

        const quint64 serial = ++m_serial;
        QElapsedTimer clock;
        clock.start();
        QNetworkReply *reply = m_network->post(request, job.message.body);
        m_inFlight.insert(serial, InFlight{job, reply, clock, false, {}});
        // One timer for all deadlines: requests start in order and share one timeout, so the deadlines are
        // in order too.
        m_deadlineQueue.enqueue({clock.msecsSinceReference() + m_timeoutMs, serial});
        if (!m_deadlines->isActive())
            m_deadlines->start(m_timeoutMs);
        // Certificates are verified (Qt's default); a failure is reported with what was wrong with it.
        if (m_https) {
            connect(reply, &QNetworkReply::sslErrors, this, [this, serial](const QList<QSslError> &errors) {
                if (auto it = m_inFlight.find(serial); it != m_inFlight.end()) {
                    for (const QSslError &e : errors)
                        it->tlsProblems.append(e.errorString());
                }
            });
        }
        connect(reply, &QNetworkReply::finished, this, [this, reply, serial] { finish(reply, serial); });
    }

    void expireDeadlines()
    {
        QElapsedTimer clock;
        clock.start();
        const qint64 current = clock.msecsSinceReference();
        while (!m_deadlineQueue.isEmpty() && m_deadlineQueue.head().first <= current) {
            const quint64 serial = m_deadlineQueue.dequeue().second;
            auto it = m_inFlight.find(serial);
            if (it == m_inFlight.end())
                continue; // already answered
            it->timedOut = true;
            it->reply->abort(); // finished() follows at once
        }
        if (!m_deadlineQueue.isEmpty())
            m_deadlines->start(int(qMax<qint64>(0, m_deadlineQueue.head().first - current)));
    }

    void finish(QNetworkReply *reply, quint64 serial)
    {
        reply->deleteLater();
        const InFlight f = m_inFlight.take(serial);
        const qint64 durationMs = f.clock.elapsed();
        // The next request starts before this one's outcome is looked at: the connection is free now.
        pump();
        DeliveryResult result;
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        const int code = status.toInt();
        if (f.timedOut) {
            result = DeliveryResult::retry(QStringLiteral("timed out after %1 ms").arg(m_timeoutMs));
        } else if (status.isValid() && code >= 200 && code < 300) {
            result = DeliveryResult::sent(code); // the reason phrase, body and headers only matter otherwise
        } else if (status.isValid()) {
            result = HttpSender::classify(code, reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray(),
                                          reply->read(4096), reply->rawHeader("retry-after"));
            if (code / 100 == 3)
                result.error += QStringLiteral(" (redirect to '%1' not followed)").arg(QString::fromUtf8(reply->rawHeader("location")));
        } else if (!f.tlsProblems.isEmpty()) {
            result = DeliveryResult::retry(QStringLiteral("TLS certificate of %1 not accepted: %2")
                                               .arg(m_target.host(), f.tlsProblems.join(QStringLiteral("; "))));
        } else {
            result = DeliveryResult::retry(reply->errorString());
        }
        result.durationMs = durationMs;
        qCDebug(lcHttp) << "delivery" << f.job.sequences << "status" << result.httpStatus << result.error;
        finishJob(f.job, result, false);
    }

    void finishJob(const Job &job, const DeliveryResult &result, bool released)
    {
        auto it = m_groups.find(job.group);
        for (qint64 seq : job.sequences)
            it->outcomes.append(HttpSender::Outcome{seq, result, released});
        if (--it->remaining > 0)
            return;
        QMetaObject::invokeMethod(m_owner, [owner = QPointer<HttpSender>(m_owner), group = job.group, outcomes = std::move(it->outcomes)] {
            if (owner)
                owner->deliver(group, outcomes);
        }, Qt::QueuedConnection);
        m_groups.erase(it);
    }

    HttpSender *m_owner;
    QUrl m_target;
    int m_concurrency;
    int m_timeoutMs;
    int m_lowWaterMark;
    bool m_lowWaterSignalled = false;
    bool m_https = false;
    QNetworkRequest m_template;
    QNetworkAccessManager *m_network = nullptr;
    QQueue<Job> m_queue;
    QHash<quint64, Group> m_groups;
    quint64 m_serial = 0;
    QHash<quint64, InFlight> m_inFlight;
    QTimer *m_deadlines;
    QQueue<std::pair<qint64, quint64>> m_deadlineQueue; // (deadline, serial), in order
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

void HttpSender::setLowWaterHandler(const std::function<void()> &handler, int queuedRequests)
{
    m_lowWater = handler;
    QMetaObject::invokeMethod(m_network, [network = m_network, queuedRequests] { network->setLowWaterMark(queuedRequests); },
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
    // One request per event: encoded here, on the relayer's thread, as the network thread is the busier one
    // then. A batch: encoded on the network thread, which is the idle one then (the relayer's thread, busy
    // with the database, sets the pace).
    m_low = false;
    const quint64 group = m_nextGroup++;
    m_handlers.insert(group, handler);
    QList<NetworkWorker::Job> jobs;
    if (m_mode == ContentMode::Batch) {
        NetworkWorker::Job job{group, {}, {}, events};
        job.sequences.reserve(events.size());
        for (const OutboxEvent &e : events)
            job.sequences.append(e.sequence);
        jobs.append(std::move(job));
    } else {
        jobs.reserve(events.size());
        for (const OutboxEvent &e : events)
            jobs.append(NetworkWorker::Job{group, {e.sequence}, cloudevents::encode(e, m_mode), {}});
    }
    QMetaObject::invokeMethod(m_network, [network = m_network, group, jobs = std::move(jobs)] { network->enqueue(group, jobs); },
                              Qt::QueuedConnection);
}

void HttpSender::cancelQueued()
{
    QMetaObject::invokeMethod(m_network, [network = m_network] { network->releaseQueued(); }, Qt::QueuedConnection);
}

void HttpSender::deliver(quint64 group, const QList<Outcome> &outcomes)
{
    const ResultHandler handler = m_handlers.take(group);
    if (handler)
        handler(outcomes);
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
