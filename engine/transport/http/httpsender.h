// SPDX-License-Identifier: MIT
#pragma once

#include "transport.h"

#include "cloudevents.h"
#include "outboxevent.h"
#include "relayerconfig.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QSslCertificate>
#include <QSslKey>
#include <QUrl>

#include <atomic>
#include <functional>

class QThread;

namespace outbox {

class NetworkWorker;

// Everything the default sender needs to reach one target.
struct HttpSenderOptions
{
    QUrl target;
    ContentMode mode = ContentMode::Binary;
    int concurrency = 6; // connections, and so requests in flight: each request has a connection of its own
    int timeoutMs = 10000; // per request, counted from when it is on the wire (and separately for connecting)
    QList<QSslCertificate> caCertificates; // trusted besides the system's
    QSslCertificate clientCertificate; // mTLS
    QSslKey clientKey;
    QList<std::pair<QByteArray, QByteArray>> headers; // added to every request
    QByteArray signingKey; // Standard Webhooks: the decoded key of a whsec_ secret
    qint64 maxBatchBytes = 1024 * 1024; // batched mode: the largest request body (one event may exceed it)

    // A relayer's target, mode, concurrency, timeout, certificates (read from their files now), headers and
    // signing key.
    static HttpSenderOptions from(const RelayerConfig &config);
    // A PEM private key file (RSA or EC, unencrypted); null when unreadable.
    static QSslKey readPrivateKey(const QString &path);
};

// The default sender: CloudEvents over HTTP/1.1 with a client of the engine's own (engine/transport/http/httpsender.cpp says
// why not QNetworkAccessManager), a bounded number of requests in flight and a deadline per request. The
// object lives on the relayer's thread and is used from there; the network client runs on a thread of its
// own, so requests keep flowing while the relayer writes results to the database.
class HttpSender final : public Transport
{
    Q_OBJECT
public:
    explicit HttpSender(const HttpSenderOptions &options, QObject *parent = nullptr);
    ~HttpSender() override;

    // Transport: one request per event (binary, structured), or batches of up to maxBatchBytes (batch).
    void send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64 leaseMs = 0) override;
    void leasesRenewed(qint64 leaseMs) override;
    void setLowWaterHandler(const std::function<void()> &handler, int queuedRequests = 0) override;
    bool isLow() const override { return m_low; }
    void cancelQueued() override;

    static constexpr int kGatherMs = 2; // the longest an answer waits for others before it is handed over

    // How a response or a network error is classified (exposed for tests and custom senders).
    static DeliveryResult classify(
        int httpStatus, const QByteArray &reasonPhrase, const QByteArray &body, const QByteArray &retryAfter);
    // Retry-After (RFC 9110: delay-seconds or an HTTP date) in milliseconds, clamped to a day; -1 when absent
    // or unreadable.
    static qint64 parseRetryAfter(const QByteArray &value);
    // The Standard Webhooks signature header value ("v1,<base64 HMAC-SHA256 of id.timestamp.body>").
    static QByteArray webhookSignature(
        const QByteArray &key, const QByteArray &id, qint64 timestamp, const QByteArray &body);

private:
    friend class NetworkWorker;
    // From the network thread: outcomes of a group, handed over by the next deliverPending() on this thread,
    // which is posted now when `now` or `concurrency` answers wait (false when it was not: handOver() posts it).
    bool post(quint64 group, QList<Outcome> &&outcomes, bool last, int answeredRequests, bool now);
    void handOver();
    void deliverPending();
    struct Pending
    {
        QList<Outcome> outcomes;
        bool last = false;
        int answeredRequests = 0;
    };
    // Answered requests whose outcomes the handler has not taken yet (the relayer writes them there). A request
    // starts only while these and the requests on the wire are fewer than 2 x `concurrency`: a relayer frozen
    // or killed at any moment has at most that many events sent and not written, however slow its database,
    // and one group of answers can be on the wire while the one before it is written.
    std::atomic<int> m_answeredUnhandled{0};
    std::atomic<bool> m_held{false}; // the network side stopped starting requests for that reason
    QMutex m_pendingMutex;
    QHash<quint64, Pending> m_pending; // by group; guarded by m_pendingMutex
    int m_pendingAnswered = 0; // answered requests in m_pending; guarded by m_pendingMutex
    bool m_deliveryPosted = false; // guarded by m_pendingMutex

    ContentMode m_mode;
    int m_concurrency;
    qint64 m_maxBatchBytes;
    QThread *m_thread;
    NetworkWorker *m_network;
    quint64 m_nextGroup = 1;
    QHash<quint64, ResultHandler> m_handlers; // send() calls not yet answered, by group
    std::function<void()> m_lowWater;
    bool m_low = false;
};

} // namespace outbox
