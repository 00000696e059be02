// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "cloudevents.h"
#include "error.h"

#include <QDateTime>
#include <QHostAddress>
#include <QObject>
#include <QUrl>

#include <memory>

namespace outbox {

class ReceiverPrivate;

/// How the receiver misbehaves, for seeing what a relayer does when its target does. Settable while it runs.
struct OUTBOX_EXPORT ReceiverFaults
{
    int status = 0; ///< reply with this status (0: 200 OK); with failRate, the status of failing requests
    double failRate = 0.0; ///< 0..1: this share of requests fails (with `status`, or 500)
    int delayMs = 0; ///< answer this much later
    int retryAfterSeconds = -1; ///< add Retry-After to failing replies
    bool hang = false; ///< never answer (the client's timeout must fire)
    bool dropConnection = false; ///< close the connection without answering

    QString problem() const; ///< empty when usable
};

/// Faults for some requests only: those with an event whose type, source and subject match the patterns
/// ('*' matches any run of characters, everything else itself; an empty pattern matches anything). A batched
/// request matches when one of its events does, and then the whole request gets the rule's faults.
struct OUTBOX_EXPORT ReceiverFaultRule
{
    QString type; ///< pattern on the event's type
    QString source; ///< pattern on the event's source
    QString subject; ///< pattern on the event's subject (an event without one matches only an empty pattern or "*")
    ReceiverFaults faults; ///< what the matching requests get

    /// Whether the event matches all three patterns.
    bool matches(const OutboxEvent &event) const;
    /// Reads a rule written as comma-separated key=value pairs: the patterns `type`, `source`, `subject`, and
    /// the faults `status`, `fail-rate` (0 to 1), `delay` (ms), `retry-after` (s), `hang`, `drop`; for example
    /// `type=com.example.order.*,status=503,retry-after=5`. The error says which part is wrong.
    static Result<ReceiverFaultRule> parse(const QString &text);
    /// The rule in the form parse() reads.
    QString toString() const;
};

/// One HTTP request as it arrived, what was read from it, and how it was answered.
struct ReceivedRequest
{
    QDateTime receivedAt;
    QByteArray method;
    QByteArray target;
    HttpMessage message;
    DecodedRequest decoded;
    int replyStatus = 0; ///< 0: no reply (hang or drop)
    /// With a signing secret set: "valid", or why the Standard Webhooks signature was refused. Else empty.
    QString signature;
};

/// A local CloudEvents HTTP endpoint on its own thread: it accepts binary, structured and batched requests,
/// keeps what it received, and can simulate failures. Binds to loopback unless told otherwise.
class OUTBOX_EXPORT Receiver : public QObject
{
    Q_OBJECT
public:
    /// A receiver that does not listen yet.
    explicit Receiver(QObject *parent = nullptr);
    /// Closes it (see close()).
    ~Receiver() override;

    /// Listens on the port (0: a free one) of the address, loopback by default; the error says why not.
    Error listen(quint16 port = 0, const QHostAddress &address = QHostAddress(QHostAddress::LocalHost));
    /// Stops listening; answers already written reach their clients first. What arrived is kept.
    void close();
    /// Whether it listens, on which port, and its URL (http://address:port/) to relay to.
    ///@{
    bool isListening() const;
    quint16 port() const;
    QUrl url() const;
    ///@}

    /// The failures it simulates from the next request on; thread-safe.
    ///@{
    void setFaults(const ReceiverFaults &faults);
    ReceiverFaults faults() const;
    ///@}
    /// Rules that give some requests faults of their own (see ReceiverFaultRule); the first rule that matches
    /// a request decides, and a request no rule matches gets faults(). Thread-safe, from the next request on.
    /// Not applied with Recording::CountOnly, which does not read events.
    ///@{
    void setFaultRules(const QList<ReceiverFaultRule> &rules);
    QList<ReceiverFaultRule> faultRules() const;
    ///@}
    /// Verify Standard Webhooks signatures with this "whsec_..." secret (empty: do not verify). A request
    /// without a valid signature is answered 401 and recorded with the reason. Returns false for a secret
    /// that is not one.
    bool setSigningSecret(const QByteArray &secret);
    /// Empty when the request carries a valid Standard Webhooks signature made with the key (timestamp
    /// within 5 minutes); otherwise why not.
    static QString webhookSignatureProblem(const QByteArray &key, const HttpMessage &message);

    /// Full: decode, validate and keep every request, and signal each. CountOnly: answer and count, nothing
    /// more (a fast sink for benchmarks and soaks); of the faults only the status and failure rate apply, and
    /// eventCount() counts the events of the requests answered 200.
    /// Stream: as Full, but nothing is kept: each request is only signalled (a receiver that writes what it
    /// gets somewhere else, such as `outboxctl receive`, keeps its memory flat however long it runs).
    enum class Recording { Full, CountOnly, Stream };
    /// What it keeps of each request (Full by default).
    void setRecording(Recording recording);

    /// Thread-safe snapshots of what arrived so far (at most the last 100,000 requests are kept; the counts
    /// cover everything since the last clear()).
    ///@{
    QList<ReceivedRequest> requests() const;
    QList<ReceivedEvent> events() const;
    int requestCount() const;
    int eventCount() const;
    ///@}
    /// Forgets what arrived and sets the counts to 0.
    void clear();

Q_SIGNALS:
    /// Each request as it was answered (not with Recording::CountOnly), from the receiver's thread.
    void requestReceived(const outbox::ReceivedRequest &request);

private:
    std::unique_ptr<ReceiverPrivate> d;
};

} // namespace outbox
