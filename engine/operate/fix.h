// SPDX-License-Identifier: MIT
#pragma once

// Private: edit & retry. An operator edits a failed event (its data, type, attributes) and enqueues the fix
// as a new event; the failed original is deleted, or kept failed and marked resolved with the fix named in its
// history. The console's composer calls it on its storage's thread.

#include "storage.h"

namespace outbox {

struct FixOutcome
{
    // What became of the original.
    enum class Original {
        None, ///< the fix replaced nothing (fix.replayOf was empty)
        Deleted,
        AlreadyGone, ///< deleted meanwhile by someone else
        Resolved, ///< kept failed, its history naming the fix
        NoLongerFailed, ///< retried or gone meanwhile: left as it is
        NotChanged, ///< the change was refused (`error` says why); the fix is enqueued all the same
    };
    QString id; ///< the fix's event id
    Original original = Original::None;
    QString error; ///< NotChanged: why
};

enum class FixedOriginal { Delete, Resolve };

// Enqueues `fix` (fix.replayOf: the failed event it replaces, or empty) in a transaction of its own on the
// storage's connection, then deletes or resolves the original. An error only when the fix could not be
// enqueued (nothing was written then), or when the original is to be kept but holds the fix's ordering key
// (it would hold the fix behind it for good: refused, nothing written).
Result<FixOutcome> enqueueFix(Storage &storage, const OutboxEvent &fix, FixedOriginal original);

// What became of the original, in an operator's words ("the original deleted", ...; empty for None).
QString originalOutcomeText(const FixOutcome &outcome, FixedOriginal asked);

// The history entry a fix writes into the original it keeps, and the fix's id read back from one (empty for
// any other entry).
QString replacedNote(const QString &fixId);
QString fixOf(const QString &note);

} // namespace outbox
