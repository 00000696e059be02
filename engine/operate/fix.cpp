// SPDX-License-Identifier: MIT
#include "fix.h"

#include "sendevent.h"

namespace outbox {

Result<FixOutcome> enqueueFix(Storage &storage, const OutboxEvent &fix, FixedOriginal original)
{
    // A failed event holds its ordering key (its key's later events wait until it is sent or gone): kept, the
    // original would hold a fix of the same key behind it for good.
    if (original == FixedOriginal::Resolve && !fix.replayOf.isEmpty() && !fix.orderingKey.isEmpty()) {
        const Result<OutboxEvent> old = storage.event(fix.replayOf);
        if (old.isOk() && old->status == EventStatus::Failed && old->orderingKey == fix.orderingKey)
            return Error(Error::InvalidArgument,
                QStringLiteral("the original %1 holds the ordering key '%2': kept failed, it would hold the fix "
                               "behind it for good (a key's events go one at a time, in order); delete the "
                               "original instead, or give the fix another key")
                    .arg(fix.replayOf, fix.orderingKey));
    }
    QSqlDatabase db = storage.database();
    if (Error e = Storage::beginWrite(db))
        return e;
    SendEventOptions o;
    o.eventId = fix.id;
    o.contentType = fix.contentType;
    o.subject = fix.subject;
    o.orderingKey = fix.orderingKey;
    o.extensions = fix.extensions;
    o.replayOf = fix.replayOf;
    Result<QString> id = sendEventTransactional(db, fix.type, fix.source, fix.data, o);
    if (!id.isOk()) {
        db.rollback();
        return id.error();
    }
    if (!db.commit())
        return Error(Error::Database, QStringLiteral("cannot commit"));
    FixOutcome out;
    out.id = id.value();
    if (fix.replayOf.isEmpty())
        return out;
    if (original == FixedOriginal::Delete) {
        auto removed = storage.remove({fix.replayOf});
        if (!removed.isOk()) {
            out.original = FixOutcome::Original::NotChanged;
            out.error = removed.error().message();
        } else {
            out.original = removed->changed == 1 ? FixOutcome::Original::Deleted : FixOutcome::Original::AlreadyGone;
        }
        return out;
    }
    const Result<bool> resolved = storage.resolveFailed(fix.replayOf, replacedNote(out.id));
    if (!resolved.isOk()) {
        out.original = FixOutcome::Original::NotChanged;
        out.error = resolved.error().message();
    } else {
        out.original = resolved.value() ? FixOutcome::Original::Resolved : FixOutcome::Original::NoLongerFailed;
    }
    return out;
}

QString originalOutcomeText(const FixOutcome &r, FixedOriginal asked)
{
    switch (r.original) {
    case FixOutcome::Original::None:
        break;
    case FixOutcome::Original::Deleted:
        return QStringLiteral("the original deleted");
    case FixOutcome::Original::AlreadyGone:
        return QStringLiteral("the original was already gone");
    case FixOutcome::Original::Resolved:
        return QStringLiteral("the original kept failed, marked resolved by the fix");
    case FixOutcome::Original::NoLongerFailed:
        return QStringLiteral("the original is no longer failed (retried or gone meanwhile)");
    case FixOutcome::Original::NotChanged:
        return asked == FixedOriginal::Delete
            ? QStringLiteral("the original could not be deleted: %1").arg(r.error)
            : QStringLiteral("the original kept; it could not be marked resolved: %1").arg(r.error);
    }
    return {};
}

QString replacedNote(const QString &fixId)
{
    return QStringLiteral("replaced by %1 (edited)").arg(fixId);
}

QString fixOf(const QString &note)
{
    static const QString before = QStringLiteral("replaced by ");
    static const QString after = QStringLiteral(" (edited)");
    if (!note.startsWith(before) || !note.endsWith(after) || note.size() <= before.size() + after.size())
        return {};
    return note.mid(before.size(), note.size() - before.size() - after.size());
}

} // namespace outbox
