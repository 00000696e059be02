// SPDX-License-Identifier: MIT
#pragma once

// The interface a broker transport plug-in implements (a shared object in the transports plug-in directory,
// found by the URL schemes its metadata names; see transportplugins.h). Header-only on purpose: a plug-in needs
// Qt Core and its broker's client library, no symbol of the engine. The engine turns each leased event into a
// BrokerMessage (the CloudEvent's attributes, content type and body, for binary or structured mode), hands the
// messages to the plug-in's BrokerPublisher, and turns the acknowledgements back into the relay's outcomes.

#include <QtPlugin>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <utility>

namespace outbox {

// One event to publish.
struct BrokerMessage
{
    qint64 sequence = 0; // what the acknowledgement names
    QString id;
    QString orderingKey; // a key for brokers that have one (Kafka's message key); empty when none
    // Binary mode: the context attributes and extensions by name, as canonical strings (specversion, id, source,
    // type, time, subject, then extensions), without datacontenttype. Empty in structured mode.
    QList<std::pair<QString, QString>> attributes;
    QString contentType; // binary: datacontenttype (may be empty); structured: application/cloudevents+json
    QByteArray body; // binary: the event's data; structured: the whole event as JSON
    bool structured = false;
};

// What the broker said about one message.
struct BrokerAck
{
    enum class Kind {
        Sent, // acknowledged: stored by the broker
        Retry, // worth another attempt later (a quota, a timeout, a lost connection before the acknowledgement)
        Failed, // refused for good (not authorised, too large, unroutable)
    };
    qint64 sequence = 0;
    Kind kind = Kind::Sent;
    QString error; // why, for Retry and Failed, in the broker's words
    // The broker itself is down or unreachable (not this message): the relayer holds the target's events without
    // charging their attempts (the same breaker as an HTTP target that does not answer).
    bool brokerUnavailable = false;
};

// The settings a plug-in gets besides the URL.
struct BrokerOptions
{
    int timeoutMs = 10000; // an acknowledgement not in by then is a Retry
    int maxInFlight = 6; // messages published and not yet acknowledged (the relayer's concurrency)
    QString caFile; // TLS: extra CA certificates (PEM); empty: the system's
    QString clientCertificateFile; // TLS client certificate and key (PEM), when the broker asks for one
    QString clientKeyFile;
    QString clientName; // the relayer's name, for a client id
    // The password of the URL's user, read by the engine from the file the URL's ?password-file= names (a file
    // only its owner may read, the rule for every secret file); empty when there is none.
    QString password;
    // A token the broker takes instead of a user and password (NATS), read by the engine from ?token-file=
    // under the same rule; empty when there is none.
    QString token;
    // An NKey seed (NATS: the URL's user is the key's public half), read by the engine from ?nkey-seed-file=
    // under the same rule; empty when there is none.
    QString nkeySeed;
    // A user JWT (NATS in operator mode), read by the engine with its NKey seed (into nkeySeed) from the
    // credentials file ?creds-file= names (as `nsc` writes it), under the same rule; empty when there is none.
    QString userJwt;
};

// Publishes to one destination; created and used on the relayer's thread. Acknowledgements are handed back on
// that thread (the plug-in marshals them from its client library's thread), each call with one or more.
class BrokerPublisher
{
public:
    using AckHandler = std::function<void(const QList<BrokerAck> &acks)>;
    virtual ~BrokerPublisher() = default;
    // Publishes the messages (in order); every message gets exactly one BrokerAck through `handler`, also when it
    // could not be published at all (the broker is down: Retry with brokerUnavailable).
    virtual void publish(const QList<BrokerMessage> &messages, const AckHandler &handler) = 0;
    // Published and not yet acknowledged.
    virtual int inFlight() const = 0;
};

// One message received from the broker (a subscription of outboxctl receive --from).
struct BrokerDelivery
{
    QString topic; // where it was published (the subject, queue or topic)
    // The CloudEvents attributes the message carries, by name without the binding's prefix (MQTT: user
    // properties; NATS: ce- headers, percent-decoded; Kafka: ce_ headers; AMQP: cloudEvents_ headers).
    QList<std::pair<QString, QString>> properties;
    QString contentType;
    QByteArray body;
};

// A subscription; ends when deleted. Messages are handed over on the thread that made it.
class BrokerSubscriber
{
public:
    using MessageHandler = std::function<void(const BrokerDelivery &message)>;
    virtual ~BrokerSubscriber() = default;
    // Subscribed, or why not yet (the broker is away: it tries again), in one line.
    virtual QString state() const = 0;
};

class TransportPlugin
{
public:
    virtual ~TransportPlugin() = default;
    // What is wrong with this target URL or these options for the plug-in (one line), or empty.
    virtual QString problem(const QUrl &target, const BrokerOptions &options) const = 0;
    // A publisher for the target, owned by the caller; null, and why in `error`, when it cannot be made.
    virtual BrokerPublisher *create(const QUrl &target, const BrokerOptions &options, QString *error) = 0;
    // A subscription to the source (a destination this plug-in's scheme names, wildcards where the broker has
    // them), owned by the caller; null, and why in `error`, when it cannot be made.
    virtual BrokerSubscriber *subscribe(const QUrl &source, const BrokerOptions &options,
        const BrokerSubscriber::MessageHandler &onMessage, QString *error) = 0;
};

} // namespace outbox

#define OutboxTransportPlugin_iid "dev.outboxconsole.TransportPlugin/1"
Q_DECLARE_INTERFACE(outbox::TransportPlugin, OutboxTransportPlugin_iid)
