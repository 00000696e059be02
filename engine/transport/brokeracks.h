// SPDX-License-Identifier: MIT
#pragma once

// For broker transport plug-ins (header-only, like transportplugin.h): acknowledgements collected and handed
// over once per pass of the event loop, those of one publish() call in one call of its handler (at thousands
// a second, one call each would make the relayer write each result back alone); and the messages held while
// a publisher has no connection.

#include "transportplugin.h"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QObject>

#include <memory>
#include <utility>

namespace outbox {

class AckOutbox
{
public:
    using Handler = std::shared_ptr<const BrokerPublisher::AckHandler>; // one per publish() call

    // `context`: the publisher, on whose thread the handlers run.
    explicit AckOutbox(QObject *context) : m_context(context) { }

    // Hands `ack` to `handler` on the next pass of the event loop.
    void add(const Handler &handler, const BrokerAck &ack)
    {
        m_out.append({handler, ack});
        if (!std::exchange(m_queued, true))
            QMetaObject::invokeMethod(
                m_context, [this] { flush(); }, Qt::QueuedConnection);
    }

    // Hands over what was added, now.
    void flush()
    {
        m_queued = false;
        const QList<std::pair<Handler, BrokerAck>> out = std::exchange(m_out, {});
        QList<BrokerAck> group;
        for (qsizetype i = 0; i < out.size(); ++i) {
            group.append(out.at(i).second);
            if (i + 1 == out.size() || out.at(i + 1).first != out.at(i).first) {
                (*out.at(i).first)(group);
                group.clear();
            }
        }
    }

private:
    QObject *m_context;
    QList<std::pair<Handler, BrokerAck>> m_out;
    bool m_queued = false;
};

// Messages a publisher holds while it has no connection, oldest first, each with the handler of its publish()
// call and since when it waits.
class HeldMessages
{
public:
    struct Held
    {
        BrokerMessage message;
        AckOutbox::Handler handler;
        QElapsedTimer since;
    };

    void hold(const QList<BrokerMessage> &messages, const AckOutbox::Handler &handler)
    {
        for (const BrokerMessage &m : messages) {
            Held h{m, handler, {}};
            h.since.start();
            m_held.append(h);
        }
    }
    // Back at the front (it could not be published after all), still waiting since it first did.
    void putBack(const Held &held) { m_held.prepend(held); }
    Held takeFirst() { return m_held.takeFirst(); }
    QList<Held> takeAll() { return std::exchange(m_held, {}); }
    bool isEmpty() const { return m_held.isEmpty(); }
    qsizetype size() const { return m_held.size(); }

    // Those held for `timeoutMs` or longer: tried again later, the broker unavailable (the relayer holds their
    // events without charging them), `why` their error.
    void expire(int timeoutMs, AckOutbox &acks, const QString &why)
    {
        while (!m_held.isEmpty() && m_held.first().since.elapsed() >= timeoutMs) {
            const Held h = m_held.takeFirst();
            acks.add(h.handler, BrokerAck{h.message.sequence, BrokerAck::Kind::Retry, why, true});
        }
    }

private:
    QList<Held> m_held;
};

} // namespace outbox
