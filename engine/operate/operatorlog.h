// SPDX-License-Identifier: MIT
#pragma once

// Private: what every operator did on an outbox, read back from the events' history (each action writes an
// "operator" entry to the history of every event it changed). For the console's operations list. Not installed.

#include "storage.h"

namespace outbox::detail {

struct OperatorAction
{
    QDateTime at;
    QString what; ///< as written to the history: "manual retry", "replayed as …", "resolved: …"
    QString who; ///< the actor: user@host (program)
    qint64 events = 0; ///< how many events it changed
};

// The newest `limit` actions, newest first. An outbox of a foreign format keeps no such history:
// Error::Unsupported.
Result<QList<OperatorAction>> operatorActions(Storage &storage, int limit);

} // namespace outbox::detail
