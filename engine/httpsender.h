#pragma once

#include "cloudevents.h"
#include "outboxevent.h"

#include <QObject>
#include <QUrl>

#include <functional>

class QThread;
class QSslCertificate;

namespace outbox {

class NetworkWorker;

// The default sender: CloudEvents over HTTP with QNetworkAccessManager, a bounded number of requests in
// flight and a deadline per request. The object lives on the relayer's thread and is used from there; the
// network client runs on a thread of its own, so requests keep flowing while the relayer writes results
// to the database.
class HttpSender : public QObject
{
    Q_OBJECT
public:
    // Called once per event with its outcome, on the sender's thread; `released` means the event was never
    // sent (cancelled before its request started).
    using ResultHandler = std::function<void(qint64 sequence, const DeliveryResult &result, bool released)>;

    HttpSender(const QUrl &target, ContentMode mode, int concurrency, int timeoutMs, QObject *parent = nullptr);
    ~HttpSender() override;
    // https: trust these CA certificates too (certificates are always verified; the system's CAs are trusted).
    void addCaCertificates(const QList<QSslCertificate> &certificates);

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler);
    // Called when fewer requests wait to start than may be in flight: the moment to hand over more work.
    void setLowWaterHandler(const std::function<void()> &handler) { m_lowWater = handler; }
    // Gives back every event whose request has not started yet (handler called with released = true).
    void cancelQueued();

    // How a response or a network error is classified (exposed for tests and custom senders).
    static DeliveryResult classify(int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body,
                                   const QByteArray &retryAfter);
    static qint64 parseRetryAfter(const QByteArray &value); // milliseconds, or -1

private:
    friend class NetworkWorker;
    void deliver(quint64 job, const DeliveryResult &result);
    void released(const QList<quint64> &jobs);

    ContentMode m_mode;
    QThread *m_thread;
    NetworkWorker *m_network;
    quint64 m_nextJob = 1;
    struct Pending
    {
        QList<qint64> sequences;
        ResultHandler handler;
    };
    QHash<quint64, Pending> m_pending; // jobs handed to the network thread, by id
    std::function<void()> m_lowWater;
};

} // namespace outbox
