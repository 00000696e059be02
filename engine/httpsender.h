#pragma once

#include "cloudevents.h"
#include "outboxevent.h"

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QQueue>
#include <QUrl>

#include <functional>

class QNetworkReply;

namespace outbox {

// The default sender: CloudEvents over HTTP with QNetworkAccessManager, a bounded number of requests in flight
// and a deadline per request. Lives on the relayer's thread.
class HttpSender : public QObject
{
    Q_OBJECT
public:
    // Called once per event with its outcome; Released means the event was never sent (cancelled before it started).
    using ResultHandler = std::function<void(qint64 sequence, const DeliveryResult &result, bool released)>;

    HttpSender(const QUrl &target, ContentMode mode, int concurrency, int timeoutMs, QObject *parent = nullptr);

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler);
    // Called when fewer requests wait to start than may be in flight: the moment to hand over more work.
    void setLowWaterHandler(const std::function<void()> &handler) { m_lowWater = handler; }
    // Gives back every event whose request has not started yet (handler called with released = true).
    void cancelQueued();
    int inFlight() const { return m_inFlight; }

    // How a response or a network error is classified (exposed for tests and custom senders).
    static DeliveryResult classify(int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body,
                                   const QByteArray &retryAfter);
    static qint64 parseRetryAfter(const QByteArray &value); // milliseconds, or -1

private:
    struct Job
    {
        QList<qint64> sequences;
        HttpMessage message;
        ResultHandler handler;
    };
    void pump();
    void start(Job job);
    void finish(QNetworkReply *reply, const Job &job, qint64 elapsedMs, bool timedOut);

    QNetworkAccessManager m_network;
    QUrl m_target;
    ContentMode m_mode;
    int m_concurrency;
    int m_timeoutMs;
    int m_inFlight = 0;
    QQueue<Job> m_queue;
    std::function<void()> m_lowWater;
};

} // namespace outbox
