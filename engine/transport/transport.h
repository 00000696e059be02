// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine (for now): the seam between the relay pipeline and the ways events reach a target.
// The relay worker knows batches, leases and results; a transport knows how to deliver events and what each
// answer means (DeliveryResult: sent, retry, failed, and whether the target itself is unavailable). HTTP is
// the first transport (transport/http/); brokers come next, as plug-ins behind the same interface.

#include "outboxevent.h"

#include <QList>
#include <QObject>

#include <functional>

namespace outbox {

struct RelayerConfig;

// Lives on the relayer's thread and is used from there.
class Transport : public QObject
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
    // Called on the relayer's thread as outcomes become known, never holding one back for the rest of its
    // send() call: outcomes that arrive while that thread is busy are handed over together in one call.
    // `last` is true on the call that ends the send() call (it may carry no outcome).
    using ResultHandler = std::function<void(const QList<Outcome> &outcomes, bool last)>;

    using QObject::QObject;
    ~Transport() override;

    // The transport of a relayer's configuration: its custom sender, or CloudEvents over HTTP(S).
    static Transport *create(const RelayerConfig &config, QObject *parent);

    // Delivers the events (in the configuration's content mode). leaseMs > 0: the events are leased for that
    // long from now, and one whose lease has run out by the time its delivery would start (the process was
    // stopped, the renewals failed) is released instead of sent: it may be another relayer's by then.
    virtual void send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64 leaseMs = 0) = 0;
    // The leases of every event handed over so far were renewed just now for leaseMs.
    virtual void leasesRenewed(qint64 leaseMs) = 0;
    // Called (once each time the queue runs low) when fewer than `queued` deliveries wait to start: the
    // moment to hand over more work. The default mark is the concurrency.
    virtual void setLowWaterHandler(const std::function<void()> &handler, int queued = 0) = 0;
    // Whether the queue has run low since the last send() (the handler may have been called when no more
    // work could be handed over).
    virtual bool isLow() const = 0;
    // Gives back every event whose delivery has not started yet (as released outcomes).
    virtual void cancelQueued() = 0;
    // How many claimed batches the relayer may have in hand at once: two for HTTP (one being sent, the next
    // claimed before the connections run dry); more for a transport whose broker takes a window of messages
    // and acknowledges them later, where two batches would leave it waiting on round trips.
    virtual int batchesInHand() const { return 2; }
};

} // namespace outbox
