// SPDX-License-Identifier: MIT
// outboxctl fix: edit & retry from the command line, the console's operation (engine/operate/fix.h).

#include "commandutil.h"
#include "cli.h"

#include "fix.h"
#include "sendevent.h"

int cmdFix(const QStringList &args)
{
    Command cmd(QStringLiteral("fix"),
        QStringLiteral("Edit & retry: enqueue a corrected copy of a failed event (new id), and mark the original "
                       "resolved by it (or delete it); prints the new id."));
    cmd.addOption(QStringLiteral("data"), QStringLiteral("The corrected data (default: the original's)."),
        QStringLiteral("json"));
    cmd.addOption(QStringLiteral("data-file"),
        QStringLiteral("Read the corrected data from a file ('-': standard input), byte for byte."),
        QStringLiteral("file"));
    cmd.addOption(
        QStringLiteral("content-type"), QStringLiteral("A new content type of the data."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("A new CloudEvents type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("source"), QStringLiteral("A new CloudEvents source."), QStringLiteral("source"));
    cmd.addOption(QStringLiteral("subject"), QStringLiteral("A new subject."), QStringLiteral("subject"));
    cmd.addOption(QStringLiteral("key"), QStringLiteral("A new ordering key."), QStringLiteral("key"));
    cmd.addOption(QStringLiteral("ext"),
        QStringLiteral("Set an extension attribute (repeatable; the original's others are kept)."),
        QStringLiteral("name=value"));
    cmd.addOption(QStringLiteral("delete-original"),
        QStringLiteral("Delete the failed original instead of keeping it, marked resolved by the fix."));
    cmd.parse(args);
    const QStringList ids = requireIds(cmd, QStringLiteral("fix"));
    if (ids.size() != 1)
        fail(BadUsage, QStringLiteral("fix takes one event id"));
    if (cmd.isSet(QStringLiteral("data")) && cmd.isSet(QStringLiteral("data-file")))
        fail(BadUsage, QStringLiteral("give --data or --data-file, not both"));
    const QJsonObject extensions = parseExtensions(cmd.values(QStringLiteral("ext")));

    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::Enqueue))
        fail(BadUsage,
            QStringLiteral("events are enqueued into a %1 table by its framework, not from here")
                .arg(storage->formatName()));
    auto original = storage->event(ids.first().trimmed());
    if (!original.isOk())
        fail(exitFor(original.error()), original.error().message());
    if (original->status != EventStatus::Failed)
        fail(BadUsage,
            QStringLiteral("event %1 is %2, not failed: only a failed event is fixed (replay copies any)")
                .arg(original->id, statusName(original->status)));

    OutboxEvent fix = *original;
    fix.id = createEventId();
    fix.replayOf = original->id;
    if (cmd.isSet(QStringLiteral("data-file")))
        fix.data = readInput(cmd.value(QStringLiteral("data-file")));
    else if (cmd.isSet(QStringLiteral("data")))
        fix.data = cmd.value(QStringLiteral("data")).toUtf8();
    if (cmd.isSet(QStringLiteral("content-type")))
        fix.contentType = cmd.value(QStringLiteral("content-type"));
    if (cmd.isSet(QStringLiteral("type")))
        fix.type = cmd.value(QStringLiteral("type"));
    if (cmd.isSet(QStringLiteral("source")))
        fix.source = cmd.value(QStringLiteral("source"));
    if (cmd.isSet(QStringLiteral("subject")))
        fix.subject = cmd.value(QStringLiteral("subject"));
    if (cmd.isSet(QStringLiteral("key")))
        fix.orderingKey = cmd.value(QStringLiteral("key"));
    for (auto it = extensions.constBegin(); it != extensions.constEnd(); ++it)
        fix.extensions.insert(it.key(), it.value());

    const FixedOriginal asked =
        cmd.isSet(QStringLiteral("delete-original")) ? FixedOriginal::Delete : FixedOriginal::Resolve;
    auto outcome = enqueueFix(*storage, fix, asked);
    if (!outcome.isOk()) // nothing was written
        fail(exitFor(outcome.error()), outcome.error().message());
    cli::printLine(outcome->id);
    // The fix is enqueued; an original that could not be resolved or deleted, or that was retried meanwhile
    // (it may be delivered besides the fix), is for the operator to look at.
    const bool asAsked =
        outcome->original == FixOutcome::Original::Resolved || outcome->original == FixOutcome::Original::Deleted;
    if (!asAsked) {
        cli::printError(QStringLiteral("enqueued the fix %1 of %2; %3")
                            .arg(outcome->id, original->id, originalOutcomeText(*outcome, asked)));
        return RuntimeFailure;
    }
    return Done;
}
