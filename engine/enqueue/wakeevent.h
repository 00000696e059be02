// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include <QObject>

namespace outbox {

/// The process-wide wake-up: raised when a transaction that enqueued an event commits (the engine installs a
/// SQLite commit hook for that), or by an application itself. Relayers in this process listen to it and
/// relay at once instead of waiting for their next poll.
class OUTBOX_EXPORT WakeEvent : public QObject
{
    Q_OBJECT
public:
    /// The one object of this process (connect to its raised() signal).
    static WakeEvent *instance();
    /// Thread-safe: may be called from any thread, even from inside a database commit.
    static void raise();

Q_SIGNALS:
    /// An enqueue committed (or raise() was called): look for due events now.
    void raised();

private:
    WakeEvent() = default;
};

} // namespace outbox
