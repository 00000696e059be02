// SPDX-License-Identifier: MIT
#pragma once

// For broker transport plug-ins (header-only, like transportplugin.h): acknowledgements collected and handed
// over once per pass of the event loop, those of one publish() call in one call of its handler. At thousands
// a second, one call each would make the relayer write each result back alone.

#include "transportplugin.h"

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

} // namespace outbox
