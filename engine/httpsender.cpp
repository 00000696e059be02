#include "httpsender.h"

#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

Q_LOGGING_CATEGORY(lcHttp, "outbox.http", QtCriticalMsg)

namespace outbox {

HttpSender::HttpSender(const QUrl &target, ContentMode mode, int concurrency, int timeoutMs, QObject *parent)
    : QObject(parent), m_target(target), m_mode(mode), m_concurrency(qMax(1, concurrency)), m_timeoutMs(timeoutMs)
{
    m_network.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

void HttpSender::send(const QList<OutboxEvent> &events, const ResultHandler &handler)
{
    if (events.isEmpty())
        return;
    if (m_mode == ContentMode::Batch) {
        Job job;
        for (const OutboxEvent &e : events)
            job.sequences.append(e.sequence);
        job.message = cloudevents::encodeBatch(events);
        job.handler = handler;
        m_queue.enqueue(std::move(job));
    } else {
        for (const OutboxEvent &e : events)
            m_queue.enqueue(Job{{e.sequence}, cloudevents::encode(e, m_mode), handler});
    }
    pump();
}

void HttpSender::cancelQueued()
{
    QQueue<Job> dropped;
    dropped.swap(m_queue);
    for (const Job &job : dropped) {
        for (qint64 seq : job.sequences)
            job.handler(seq, DeliveryResult{}, true);
    }
}

void HttpSender::pump()
{
    while (m_inFlight < m_concurrency && !m_queue.isEmpty())
        start(m_queue.dequeue());
    if (m_lowWater && m_queue.size() < m_concurrency)
        m_lowWater();
}

void HttpSender::start(Job job)
{
    QNetworkRequest request(m_target);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    for (const auto &h : job.message.headers)
        request.setRawHeader(h.first, h.second);
    if (job.message.header("content-type").isNull() && !job.message.body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/octet-stream"));

    ++m_inFlight;
    auto *clock = new QElapsedTimer;
    clock->start();
    QNetworkReply *reply = m_network.post(request, job.message.body);
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    deadline->setTimerType(Qt::PreciseTimer);
    auto timedOut = std::make_shared<bool>(false);
    connect(deadline, &QTimer::timeout, reply, [reply, timedOut] {
        *timedOut = true;
        reply->abort();
    });
    deadline->start(m_timeoutMs);
    connect(reply, &QNetworkReply::finished, this, [this, reply, job = std::move(job), clock, timedOut] {
        const qint64 elapsed = clock->elapsed();
        delete clock;
        finish(reply, job, elapsed, *timedOut);
    });
}

void HttpSender::finish(QNetworkReply *reply, const Job &job, qint64 elapsedMs, bool timedOut)
{
    reply->deleteLater();
    --m_inFlight;
    DeliveryResult result;
    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (timedOut) {
        result = DeliveryResult::retry(QStringLiteral("timed out after %1 ms").arg(m_timeoutMs));
    } else if (status.isValid()) {
        result = classify(status.toInt(), reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray(),
                          reply->read(4096), reply->rawHeader("retry-after"));
        if (result.outcome != DeliveryResult::Outcome::Sent && status.toInt() / 100 == 3)
            result.error += QStringLiteral(" (redirect to '%1' not followed)").arg(QString::fromUtf8(reply->rawHeader("location")));
    } else {
        result = DeliveryResult::retry(reply->errorString());
    }
    result.durationMs = elapsedMs;
    qCDebug(lcHttp) << "delivery" << job.sequences << "status" << result.httpStatus << result.error;
    for (qint64 seq : job.sequences)
        job.handler(seq, result, false);
    pump();
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
