// SPDX-License-Identifier: MIT
// The outboxctl commands that write or read events: init, enqueue, list, show, retry, replay, delete,
// cleanup, release. Each takes the arguments after its name and returns the exit code, or leaves through
// cli::fail() with one line for stderr.

#include "commandutil.h"
#include "cli.h"
#include "jsonl.h"

#include "cloudevents.h"
#include "deliveronce.h"
#include "duration.h"
#include "relayersettings.h"
#include "search.h"
#include "sendevent.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include <cstdio>

int cmdInit(const QStringList &args)
{
    Command cmd(QStringLiteral("init"), QStringLiteral("Create or migrate the outbox schema."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::CreateIfMissing);
    // One arg() call: a '%2F' in the URL is not a place marker.
    cli::printLine(QStringLiteral("outbox ready at %1 (schema version %2)")
                       .arg(storage->spec().displayUrl(), QString::number(Storage::schemaVersion())));
    return Done;
}

// enqueue may start a new outbox file, but never adds tables to an existing database that is not an outbox
// (only init does that).
Storage::OpenMode enqueueOpenMode(const Command &cmd)
{
    const ConnectionSpec spec = cmd.connectionSpec();
    return spec.isFile() && !QFileInfo::exists(spec.database) ? Storage::OpenMode::CreateIfMissing
                                                              : Storage::OpenMode::MustExist;
}

// enqueue --jsonl FILE: one event per line, all in one transaction, or none.
static int enqueueJsonl(const Command &cmd)
{
    for (const char *single : {"type", "source", "data", "data-file", "id", "content-type", "subject", "key", "ext"}) {
        if (cmd.isSet(QLatin1String(single)))
            fail(BadUsage,
                QStringLiteral("--jsonl takes every attribute from the file; --%1 cannot be combined with it")
                    .arg(QLatin1String(single)));
    }
    // Read a line at a time: a file of any size is enqueued in one transaction with flat memory.
    QFile input;
    const QString path = cmd.value(QStringLiteral("jsonl"));
    if (path == QLatin1String("-") ? !input.open(stdin, QIODevice::ReadOnly)
                                   : (input.setFileName(path), !input.open(QIODevice::ReadOnly)))
        fail(path == QLatin1String("-") ? RuntimeFailure : BadUsage,
            QStringLiteral("cannot read '%1': %2").arg(path, input.errorString()));
    auto storage = cmd.openStorage(enqueueOpenMode(cmd));
    QSqlDatabase db = storage->database();
    // SQLite: each insert of the import keeps a statement journal of the pages it touches again within the
    // one transaction (about 60 KiB): in a temporary file, 15 writes per event; in memory the import ran 1.7x as
    // fast (README). Memory stays bounded: one insert's pages at a time.
    if (db.driverName() == QLatin1String("QSQLITE"))
        QSqlQuery(db).exec(QStringLiteral("PRAGMA temp_store=MEMORY"));
    if (Error e = Storage::beginWrite(db))
        fail(RuntimeFailure, e.message());
    int count = 0;
    int lineNumber = 0;
    for (;;) {
        const QByteArray raw = input.readLine(); // blocks on a pipe; empty only at the end
        if (raw.isEmpty())
            break;
        ++lineNumber;
        const QByteArray line = raw.trimmed();
        if (line.isEmpty())
            continue;
        const Result<JsonlEvent> parsed = parseJsonLine(line);
        Result<QString> id = parsed.isOk() ? sendEventTransactional(db, parsed.value().type, parsed.value().source,
                                 parsed.value().data, parsed.value().options)
                                           : Result<QString>(parsed.error());
        if (!id.isOk()) {
            db.rollback();
            fail(exitFor(id.error()),
                QStringLiteral("line %1: %2; nothing was enqueued").arg(lineNumber).arg(id.error().message()));
        }
        ++count;
    }
    if (!db.commit())
        fail(RuntimeFailure, QStringLiteral("cannot commit: %1").arg(db.lastError().text()));
    cli::printLine(QString::number(count));
    return Done;
}

int cmdEnqueue(const QStringList &args)
{
    Command cmd(QStringLiteral("enqueue"), QStringLiteral("Write an event into the outbox; prints its id."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("CloudEvents type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("source"), QStringLiteral("CloudEvents source."), QStringLiteral("source"));
    cmd.addOption(QStringLiteral("data"), QStringLiteral("The data, as JSON unless --content-type says otherwise."),
        QStringLiteral("json"));
    cmd.addOption(QStringLiteral("data-file"),
        QStringLiteral("Read the data from a file ('-': standard input), byte for byte."), QStringLiteral("file"));
    cmd.addOption(QStringLiteral("id"), QStringLiteral("Event id (default: a new UUID)."), QStringLiteral("id"));
    cmd.addOption(QStringLiteral("content-type"),
        QStringLiteral("Content type of the data (default: application/json)."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("subject"), QStringLiteral("CloudEvents subject."), QStringLiteral("subject"));
    cmd.addOption(QStringLiteral("key"),
        QStringLiteral("Ordering key: events with the same key are delivered in order."), QStringLiteral("key"));
    cmd.addOption(
        QStringLiteral("ext"), QStringLiteral("Extension attribute (repeatable)."), QStringLiteral("name=value"));
    cmd.addOption(QStringLiteral("jsonl"),
        QStringLiteral("Enqueue one event per line of this file ('-': standard input), in one transaction."),
        QStringLiteral("file"));
    cmd.parse(args);
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));

    if (cmd.isSet(QStringLiteral("jsonl")))
        return enqueueJsonl(cmd);

    if (!cmd.isSet(QStringLiteral("type")) || !cmd.isSet(QStringLiteral("source")))
        fail(BadUsage, QStringLiteral("enqueue needs --type and --source (or --jsonl)"));
    if (cmd.isSet(QStringLiteral("data")) && cmd.isSet(QStringLiteral("data-file")))
        fail(BadUsage, QStringLiteral("give --data or --data-file, not both"));
    SendEventOptions options;
    options.eventId = cmd.isSet(QStringLiteral("id")) ? cmd.value(QStringLiteral("id")) : QString();
    options.contentType = cmd.value(QStringLiteral("content-type"));
    options.subject = cmd.value(QStringLiteral("subject"));
    options.orderingKey = cmd.value(QStringLiteral("key"));
    options.extensions = parseExtensions(cmd.values(QStringLiteral("ext")));
    const QByteArray data = cmd.isSet(QStringLiteral("data-file")) ? readInput(cmd.value(QStringLiteral("data-file")))
                                                                   : cmd.value(QStringLiteral("data")).toUtf8();
    auto storage = cmd.openStorage(enqueueOpenMode(cmd));
    QSqlDatabase db = storage->database();
    auto id = sendEventTransactional(
        db, cmd.value(QStringLiteral("type")), cmd.value(QStringLiteral("source")), data, options);
    if (!id.isOk())
        fail(exitFor(id.error()), id.error().message());
    cli::printLine(*id);
    return Done;
}

// list --search: the console's payload search (search.h), newest first, stopped at the limit.
static Result<QList<OutboxEvent>> searchList(
    Storage &storage, const EventFilter &filter, const PageRequest &page, const QByteArray &text)
{
    PayloadSearch search;
    search.filter = filter;
    search.filter.sequenceAbove = page.afterSequence;
    search.text = text;
    QList<qint64> found;
    QHash<qint64, qsizetype> rank;
    const Error e = searchPayloads(storage, search,
        [&](const QList<qint64> &chunk) {
            for (qint64 seq : chunk) {
                if (found.size() >= page.limit)
                    return false;
                rank.insert(seq, found.size());
                found.append(seq);
            }
            return found.size() < page.limit;
        },
        {});
    if (e)
        fail(RuntimeFailure, e.message());
    auto events = storage.eventsBySequence(found, false);
    if (events.isOk()) // in the order found
        std::sort(events->begin(), events->end(), [&rank](const OutboxEvent &a, const OutboxEvent &b) {
            return rank.value(a.sequence) < rank.value(b.sequence);
        });
    return events;
}

int cmdList(const QStringList &args)
{
    Command cmd(QStringLiteral("list"), QStringLiteral("List events, oldest first."));
    cmd.addOption(QStringLiteral("status"), QStringLiteral("pending, failed, sent or all (default all)."),
        QStringLiteral("status"));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("Only events of this type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("source"), QStringLiteral("Only events from this source."), QStringLiteral("source"));
    cmd.addOption(QStringLiteral("key"), QStringLiteral("Only events with this ordering key."), QStringLiteral("key"));
    cmd.addOption(QStringLiteral("id"), QStringLiteral("Only the event with this id."), QStringLiteral("id"));
    cmd.addOption(QStringLiteral("error"), QStringLiteral("Only events whose last error contains this text."),
        QStringLiteral("text"));
    cmd.addOption(QStringLiteral("after"), QStringLiteral("Only events after this sequence number (for paging)."),
        QStringLiteral("seq"));
    cmd.addOption(
        QStringLiteral("limit"), QStringLiteral("At most this many events (default 100)."), QStringLiteral("n"));
    cmd.addOption(QStringLiteral("search"),
        QStringLiteral("Only events whose payload holds this text, or meets a condition such as "
                       "\"data.amount >= 100\" (the console's search); newest first."),
        QStringLiteral("text"));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per line."));
    cmd.parse(args);
    if (!cmd.positional().isEmpty())
        fail(BadUsage, QStringLiteral("unexpected argument '%1'").arg(cmd.positional().first()));
    EventFilter filter = filterFrom(cmd);
    filter.id = cmd.value(QStringLiteral("id")).trimmed();
    PageRequest page;
    page.limit = cmd.intValue(QStringLiteral("limit"), 100, 0, std::numeric_limits<int>::max());
    page.afterSequence = cmd.intValue(QStringLiteral("after"), 0, 0, std::numeric_limits<int>::max());
    page.includeData = false;
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    Result<QList<OutboxEvent>> events = QList<OutboxEvent>();
    if (cmd.isSet(QStringLiteral("search"))) {
        events = searchList(*storage, filter, page, cmd.value(QStringLiteral("search")).toUtf8());
    } else {
        events = storage->listEvents(filter, page);
    }
    if (!events.isOk())
        fail(RuntimeFailure, events.error().message());
    const bool json = cmd.isSet(QStringLiteral("json"));
    if (!json)
        cli::printLine(QStringLiteral("%1  %2  %3  %4  %5  %6")
                           .arg(QStringLiteral("SEQ"), 6)
                           .arg(QStringLiteral("ID"), -36)
                           .arg(QStringLiteral("STATUS"), -10)
                           .arg(QStringLiteral("TRIES"), 5)
                           .arg(QStringLiteral("TYPE"), -24)
                           .arg(QStringLiteral("LAST ERROR")));
    for (const OutboxEvent &e : *events) {
        if (json) {
            cli::printJson(cli::eventJson(e));
        } else {
            cli::printLine(QStringLiteral("%1  %2  %3  %4  %5  %6")
                               .arg(e.sequence, 6)
                               .arg(e.id, -36)
                               .arg(e.formatStatus.isEmpty() ? statusName(e.status) : e.formatStatus, -10)
                               .arg(e.attempts, 5)
                               .arg(e.type, -24)
                               .arg(e.lastError.simplified().left(80)));
        }
    }
    return Done;
}

int cmdShow(const QStringList &args)
{
    Command cmd(QStringLiteral("show"), QStringLiteral("Show one event, its data and its delivery attempts."));
    cmd.parser().addPositionalArgument(QStringLiteral("id"), QStringLiteral("The event id."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("As one JSON object."));
    cmd.parse(args);
    if (cmd.positional().size() != 1)
        fail(BadUsage, QStringLiteral("show needs exactly one event id"));
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto event = storage->event(cmd.positional().first());
    if (!event.isOk())
        fail(event.error().code() == Error::NotFound ? RuntimeFailure : RuntimeFailure, event.error().message());
    auto attempts = storage->attempts(event->id);
    if (!attempts.isOk())
        fail(RuntimeFailure, attempts.error().message());
    QJsonArray history;
    for (const Attempt &a : *attempts) {
        QJsonObject o;
        o.insert(QStringLiteral("at"), cloudevents::formatTime(a.attemptedAt));
        o.insert(QStringLiteral("outcome"), outcomeName(a.outcome));
        o.insert(QStringLiteral("http_status"), a.httpStatus > 0 ? QJsonValue(a.httpStatus) : QJsonValue());
        o.insert(QStringLiteral("error"), a.error.isEmpty() ? QJsonValue() : QJsonValue(a.error));
        o.insert(QStringLiteral("duration_ms"), a.durationMs);
        o.insert(QStringLiteral("relayer"), a.relayer);
        history.append(o);
    }
    QJsonObject o = cli::eventJson(*event);
    o.insert(QStringLiteral("data_size"), event->data.size());
    o.insert(QStringLiteral("history"), history);
    if (cmd.isSet(QStringLiteral("json"))) {
        cli::printJson(o, &*event);
        return Done;
    }
    const QByteArray pretty = cli::jsonText(o, QJsonDocument::Indented, &event->data, event->contentType);
    std::fwrite(pretty.constData(), 1, size_t(pretty.size()), stdout);
    return Done;
}

// retry --to URL: the failed events chosen, sent once to URL (see deliveronce.h).
static int retryTo(Command &cmd)
{
    // Built the one way a relayer is (relayersettings.h), from the target and mode given.
    RelayerConfig config;
    config.name = QStringLiteral("outboxctl");
    const QHash<QString, QStringList> settings = {{QStringLiteral("target"), {cmd.value(QStringLiteral("to"))}},
        {QStringLiteral("mode"), cmd.values(QStringLiteral("mode"))}};
    if (QString problem; !relayerConfigFromSettings(
            [&settings](const QString &name) { return settings.value(name); }, &config, &problem))
        fail(BadUsage, problem);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::Relay))
        fail(BadUsage, storage->relayRefusal());
    QList<qint64> sequences;
    int unknown = 0;
    if (cmd.isSet(QStringLiteral("all-failed"))) {
        if (!cmd.positional().isEmpty())
            fail(BadUsage, QStringLiteral("give event ids or --all-failed, not both"));
        EventFilter f;
        f.status = EventStatus::Failed;
        f.type = cmd.value(QStringLiteral("type"));
        auto scanned =
            storage->scanSequences(f, SortOrder{SortColumn::Sequence, false}, 1000, [&](const QList<qint64> &chunk) {
                sequences += chunk;
                return true;
            });
        if (!scanned.isOk())
            fail(RuntimeFailure, scanned.error().message());
    } else {
        if (cmd.isSet(QStringLiteral("type")))
            fail(BadUsage, QStringLiteral("--type goes with --all-failed"));
        for (const QString &id : requireIds(cmd, QStringLiteral("retry"))) {
            auto e = storage->event(id);
            if (e.isOk())
                sequences << e->sequence;
            else if (e.error().code() == Error::NotFound)
                ++unknown;
            else
                fail(RuntimeFailure, e.error().message());
        }
    }
    const QString url = config.targetUrl.toDisplayString();
    auto tally = deliverOnce(*storage, sequences, config, deliverOnceOwner(QStringLiteral("outboxctl-retry-to")),
        QStringLiteral("manual retry to %1").arg(url));
    if (!tally.isOk())
        fail(RuntimeFailure, tally.error().message());
    cli::printLine(QStringLiteral("sent %1 of %2 to %3, failed again %4, skipped %5")
                       .arg(tally->arrived)
                       .arg(sequences.size() + unknown)
                       .arg(url)
                       .arg(tally->failedAgain)
                       .arg(tally->skipped + unknown));
    if (tally->failedAgain > 0)
        fail(RuntimeFailure, QStringLiteral("%1 failed again: %2").arg(tally->failedAgain).arg(tally->firstError));
    return Done;
}

int cmdRetry(const QStringList &args)
{
    Command cmd(QStringLiteral("retry"), QStringLiteral("Put failed events back to pending (same id)."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.addOption(QStringLiteral("all-failed"), QStringLiteral("Every failed event (with --type, of that type)."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("With --all-failed: only this type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("to"),
        QStringLiteral("Send them once to this URL instead: each that arrives becomes sent, each other stays failed "
                       "with the new error (the relay target is not changed)."),
        QStringLiteral("url"));
    cmd.addOption(QStringLiteral("mode"), QStringLiteral("With --to: binary (default), structured or batch."),
        QStringLiteral("mode"));
    cmd.parse(args);
    if (cmd.isSet(QStringLiteral("to")))
        return retryTo(cmd);
    if (cmd.isSet(QStringLiteral("mode")))
        fail(BadUsage, QStringLiteral("--mode goes with --to"));
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (cmd.isSet(QStringLiteral("all-failed"))) {
        if (!cmd.positional().isEmpty())
            fail(BadUsage, QStringLiteral("give event ids or --all-failed, not both"));
        EventFilter f;
        f.type = cmd.value(QStringLiteral("type"));
        auto s = storage->retryMatching(f);
        if (!s.isOk())
            fail(RuntimeFailure, s.error().message());
        cli::printLine(QStringLiteral("retried %1, skipped 0").arg(s->changed));
        return Done;
    }
    if (cmd.isSet(QStringLiteral("type")))
        fail(BadUsage, QStringLiteral("--type goes with --all-failed"));
    auto s = storage->retry(requireIds(cmd, QStringLiteral("retry")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    return reportSummary(*s, QStringLiteral("retried"), QStringLiteral("not failed, or no such event"));
}

int cmdReplay(const QStringList &args)
{
    Command cmd(QStringLiteral("replay"),
        QStringLiteral("Enqueue a new event copied from a sent or failed one; prints the new ids."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.parse(args);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->replay(requireIds(cmd, QStringLiteral("replay")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    for (const QString &id : s->newIds)
        cli::printLine(id);
    if (s->skipped > 0) {
        cli::printError(QStringLiteral("%1 of %2 events skipped (still pending, or no such event)")
                            .arg(s->skipped)
                            .arg(s->changed + s->skipped));
        return RuntimeFailure;
    }
    return Done;
}

int cmdDelete(const QStringList &args)
{
    Command cmd(QStringLiteral("delete"), QStringLiteral("Delete events and their attempt history."));
    cmd.parser().addPositionalArgument(QStringLiteral("ids"), QStringLiteral("Event ids."), QStringLiteral("ID..."));
    cmd.parse(args);
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->remove(requireIds(cmd, QStringLiteral("delete")));
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    return reportSummary(*s, QStringLiteral("deleted"), QStringLiteral("no such event"));
}

int cmdCleanup(const QStringList &args)
{
    Command cmd(QStringLiteral("cleanup"),
        QStringLiteral("Delete old sent (or failed) events, in short transactions that leave relayers beside it "
                       "their pace."));
    cmd.addOption(QStringLiteral("older-than"), QStringLiteral("Age, e.g. 7d, 12h, 30m."), QStringLiteral("duration"));
    cmd.addOption(QStringLiteral("status"), QStringLiteral("sent (default), failed or all (sent and failed)."),
        QStringLiteral("status"));
    cmd.parse(args);
    cmd.refuseArguments();
    if (!cmd.isSet(QStringLiteral("older-than")))
        fail(BadUsage, QStringLiteral("cleanup needs --older-than DURATION"));
    auto age = parseDuration(cmd.value(QStringLiteral("older-than")));
    if (!age.isOk())
        fail(BadUsage, age.error().message());
    const QString status =
        cmd.isSet(QStringLiteral("status")) ? cmd.value(QStringLiteral("status")) : QStringLiteral("sent");
    QList<EventStatus> statuses;
    if (status == QLatin1String("sent"))
        statuses = {EventStatus::Sent};
    else if (status == QLatin1String("failed"))
        statuses = {EventStatus::Failed};
    else if (status == QLatin1String("all"))
        statuses = {EventStatus::Sent, EventStatus::Failed};
    else
        fail(BadUsage, QStringLiteral("unknown --status '%1' for cleanup: use sent, failed or all").arg(status));
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto n = storage->cleanup(QDateTime::currentDateTimeUtc().addMSecs(-*age), statuses);
    if (!n.isOk())
        fail(RuntimeFailure, n.error().message());
    cli::printLine(QStringLiteral("deleted %1 events").arg(*n));
    return Done;
}

int cmdRelease(const QStringList &args)
{
    Command cmd(QStringLiteral("release"),
        QStringLiteral("A foreign outbox (romancy, edda): put rows its relayer left 'processing' (it crashed while "
                       "sending) back to pending, so its relayer sends them again."));
    cmd.addOption(QStringLiteral("older-than"),
        QStringLiteral("Only rows created longer ago than this, e.g. 10m, 1h (the format records no claim time)."),
        QStringLiteral("duration"));
    cmd.parse(args);
    cmd.refuseArguments();
    if (!cmd.isSet(QStringLiteral("older-than")))
        fail(BadUsage, QStringLiteral("release needs --older-than DURATION"));
    auto age = parseDuration(cmd.value(QStringLiteral("older-than")));
    if (!age.isOk())
        fail(BadUsage, age.error().message());
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::ReleaseStuck))
        fail(BadUsage, storage->releaseStuck({}).error().message());
    auto n = storage->releaseStuck(QDateTime::currentDateTimeUtc().addMSecs(-*age));
    if (!n.isOk())
        fail(RuntimeFailure, n.error().message());
    cli::printLine(QStringLiteral("released %1 events").arg(*n));
    return Done;
}
