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
    // What became of one event of a send() call; `released` means it was never sent (cancelled before its
    // request started).
    struct Outcome
    {
        qint64 sequence = 0;
        DeliveryResult result;
        bool released = false;
    };
    // Called once per send() call, on the sender's thread, with the outcomes of all its events, when the last
    // of them is known: one hand-over per batch rather than one per event.
    using ResultHandler = std::function<void(const QList<Outcome> &outcomes)>;

    HttpSender(const QUrl &target, ContentMode mode, int concurrency, int timeoutMs, QObject *parent = nullptr);
    ~HttpSender() override;
    // https: trust these CA certificates too (certificates are always verified; the system's CAs are trusted).
    void addCaCertificates(const QList<QSslCertificate> &certificates);

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler);
    // Called (once each time the queue runs low) when fewer than `queuedRequests` requests wait to start:
    // the moment to hand over more work. The default mark is the concurrency.
    void setLowWaterHandler(const std::function<void()> &handler, int queuedRequests = 0);
    // Whether the queue has run low since the last send() (the handler may have been called when no more
    // work could be handed over).
    bool isLow() const { return m_low; }
    // Gives back every event whose request has not started yet (as released outcomes).
    void cancelQueued();

    // How a response or a network error is classified (exposed for tests and custom senders).
    static DeliveryResult classify(int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body,
                                   const QByteArray &retryAfter);
    static qint64 parseRetryAfter(const QByteArray &value); // milliseconds, or -1

private:
    friend class NetworkWorker;
    void deliver(quint64 group, const QList<Outcome> &outcomes);

    ContentMode m_mode;
    QThread *m_thread;
    NetworkWorker *m_network;
    quint64 m_nextGroup = 1;
    QHash<quint64, ResultHandler> m_handlers; // send() calls not yet answered, by group
    std::function<void()> m_lowWater;
    bool m_low = false;
};

} // namespace outbox
