// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "cloudevents.h"
#include "outboxevent.h"

#include <QString>
#include <QUrl>

#include <functional>

namespace outbox {

/// A custom delivery function that replaces the default CloudEvents HTTP sender.
/// Called on the relayer's thread, one event at a time.
using EventSender = std::function<DeliveryResult(const OutboxEvent &event)>;

/// Where events of some types go: a target with its own content mode, concurrency, headers and signing secret.
/// A relayer with routes sends each event to the first route with a pattern that matches its type.
struct RelayRoute
{
    QString name;
    QStringList types; ///< '*' stands for any run of characters, every other character for itself (the same on
        ///< every database); "*" is the default route
    QUrl targetUrl;
    ContentMode contentMode = ContentMode::Binary;
    int concurrency = 6;
    QList<std::pair<QByteArray, QByteArray>> headers; ///< added to the relayer's own headers
    QByteArray signingSecret; ///< empty: the relayer's own (if any)
};

/// How a relayer behaves. The defaults: poll every 1 s, batches of 100, 5 attempts, idle backoff up to 30 s.
struct OUTBOX_EXPORT RelayerConfig
{
    QUrl targetUrl; ///< the CloudEvents endpoint (not needed with a custom sender)
    int pollIntervalMs = 1000; ///< how often to look for due events when idle; doubles up to maxIdleBackoffMs
    int batchSize = 100; ///< events claimed per batch
    int maxRetries = 5; ///< delivery attempts before an event fails
    int maxIdleBackoffMs = 30000; ///< the longest wait between polls when nothing is due
    int requestTimeoutMs = 10000; ///< per HTTP request
    int concurrency = 6; ///< requests in flight
    int leaseDurationMs = 15000; ///< how long a claim holds an event; renewed every third of it while in hand
    ContentMode contentMode = ContentMode::Binary;
    int retryBackoffMs = 2000; ///< delay before the first retry; doubles per attempt, with jitter
    int maxRetryBackoffMs = 600000; ///< cap of the retry delay (10 min)
    int changeCheckIntervalMs = 20; ///< how often an idle relayer checks the database for other writers' commits
    bool wakeOnLocalCommit = true; ///< relay at once when an enqueue in this process commits
    bool wakeOnDatabaseChange = true; ///< ... or when another process commits (SQLite data_version, PostgreSQL LISTEN)
    QString caCertificatesFile; ///< https: PEM file of extra CA certificates to trust (the system's are always trusted)
    QString clientCertificateFile; ///< https: PEM client certificate (mTLS), with clientKeyFile
    QString clientKeyFile; ///< its PEM private key (RSA or EC, unencrypted)
    /// Added to every request (e.g. Authorization). Values may be secrets: the engine never prints or logs them.
    QList<std::pair<QByteArray, QByteArray>> headers;
    /// Standard Webhooks signing: a "whsec_<base64>" secret adds webhook-id, webhook-timestamp and
    /// webhook-signature to every request.
    QByteArray signingSecret;
    qint64 maxBatchBytes = 1024 * 1024; ///< batched mode: largest request body (nginx's default client_max_body_size)
    QString name; ///< shown as the lease owner; host and process id are added
    EventSender customSender;
    /// Routes by event type (first match wins; one of them must match every type). Each route is relayed by a
    /// lane of its own (thread, connection, claims of its types only), so a target that is down or slow holds
    /// back only its own events. Empty: everything goes to targetUrl.
    QList<RelayRoute> routes;

    /// Empty when usable; otherwise what is wrong, in one line.
    QString problem() const;
    /// The decoded key of signingSecret (empty when there is none or it is malformed).
    QByteArray signingKey() const;
    /// The lease claims take: leaseDurationMs, renewed while the events are in hand. A custom sender blocks
    /// the relayer's thread (no renewal), so there it is raised to cover a whole batch at the request timeout.
    qint64 effectiveLeaseMs() const;
    /// How often the leases in hand are renewed: a third of the lease.
    qint64 renewalIntervalMs() const;
};

} // namespace outbox
