// SPDX-License-Identifier: MIT
// outboxctl relayers, failures and stats: what the outbox and its relayers are doing.

#include "commandutil.h"
#include "cli.h"
#include "failuregroups.h"

#include "cloudevents.h"
#include "relayer.h"

#include <QJsonArray>

namespace {
QJsonObject relayerJson(const RelayerInfo &r)
{
    QJsonObject o;
    o.insert(QStringLiteral("owner"), r.owner);
    o.insert(QStringLiteral("state"), relayerStateName(r.state));
    o.insert(QStringLiteral("registered"), r.registered);
    o.insert(QStringLiteral("host"), r.host);
    o.insert(QStringLiteral("pid"), r.pid);
    o.insert(QStringLiteral("since"),
        r.startedAt.isValid() ? QJsonValue(cloudevents::formatTime(r.startedAt)) : QJsonValue());
    o.insert(QStringLiteral("held"), r.held);
    o.insert(QStringLiteral("lease_expires_at"),
        r.leaseExpiresAt.isValid() ? QJsonValue(cloudevents::formatTime(r.leaseExpiresAt)) : QJsonValue());
    o.insert(QStringLiteral("last_renewal"),
        r.lastRenewal.isValid() ? QJsonValue(cloudevents::formatTime(r.lastRenewal)) : QJsonValue());
    // What it found of its target: null while the target answers.
    if (r.target.isAvailable()) {
        o.insert(QStringLiteral("target_unavailable"), QJsonValue());
    } else {
        o.insert(QStringLiteral("target_unavailable"),
            QJsonObject{{QStringLiteral("target"), r.target.target},
                {QStringLiteral("since"), cloudevents::formatTime(r.target.unavailableSince)},
                {QStringLiteral("next_probe"), cloudevents::formatTime(r.target.nextProbeAt)},
                {QStringLiteral("why"), r.target.why}});
    }
    return o;
}

// "target http://… unavailable since …: why; next probe in 8 s": for stats and relayers.
QString targetLine(const RelayerInfo &r)
{
    return QStringLiteral("target %1 %2")
        .arg(r.target.target, targetStateText(r.target, QDateTime::currentDateTimeUtc()));
}

// "2 alive, 1 gone (holding 130 events)": the relayers line of stats.
QString relayersSummary(const QList<RelayerInfo> &list)
{
    int counts[3] = {0, 0, 0};
    qint64 heldByGone = 0;
    for (const RelayerInfo &r : list) {
        ++counts[int(r.state)];
        if (r.state != RelayerInfo::State::Alive)
            heldByGone += r.held;
    }
    QStringList parts;
    parts << QStringLiteral("%1 alive").arg(counts[int(RelayerInfo::State::Alive)]);
    if (counts[int(RelayerInfo::State::Gone)] > 0)
        parts << QStringLiteral("%1 gone").arg(counts[int(RelayerInfo::State::Gone)]);
    if (counts[int(RelayerInfo::State::Unknown)] > 0)
        parts << QStringLiteral("%1 unknown").arg(counts[int(RelayerInfo::State::Unknown)]);
    QString line = parts.join(QStringLiteral(", "));
    if (heldByGone > 0)
        line += QStringLiteral(" (%1 events held by relayers not known to be alive)").arg(heldByGone);
    return line;
}
} // namespace

int cmdRelayers(const QStringList &args)
{
    Command cmd(
        QStringLiteral("relayers"), QStringLiteral("The relayers that run on this outbox, and every owner of leases."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per line."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    if (!storage->has(Storage::Capability::Relay)) {
        cli::printLine(
            QStringLiteral("a %1 table records no relayers; %2").arg(storage->formatName(), storage->relayRefusal()));
        return Done;
    }
    auto list = storage->relayers(true);
    if (!list.isOk())
        fail(RuntimeFailure, list.error().message());
    if (cmd.isSet(QStringLiteral("json"))) {
        for (const RelayerInfo &r : std::as_const(*list))
            cli::printJson(relayerJson(r));
        return Done;
    }
    if (list->isEmpty()) {
        cli::printLine(QStringLiteral("no relayer runs and no event is leased"));
        return Done;
    }
    auto time = [](const QDateTime &t) { return t.isValid() ? cloudevents::formatTime(t) : QStringLiteral("-"); };
    cli::printLine(QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                       .arg(QStringLiteral("OWNER"), -40)
                       .arg(QStringLiteral("STATE"), -8)
                       .arg(QStringLiteral("HOST"), -16)
                       .arg(QStringLiteral("PID"), 8)
                       .arg(QStringLiteral("HELD"), 6)
                       .arg(QStringLiteral("SINCE"), -24)
                       .arg(QStringLiteral("LAST RENEWAL")));
    for (const RelayerInfo &r : std::as_const(*list)) {
        cli::printLine(QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                           .arg(r.owner, -40)
                           .arg(relayerStateName(r.state), -8)
                           .arg(r.host, -16)
                           .arg(r.pid, 8)
                           .arg(r.held, 6)
                           .arg(time(r.startedAt), -24)
                           .arg(time(r.lastRenewal)));
        if (!r.target.isAvailable())
            cli::printLine(QStringLiteral("  ") + targetLine(r));
    }
    return Done;
}

int cmdFailures(const QStringList &args)
{
    Command cmd(QStringLiteral("failures"),
        QStringLiteral("Failed events grouped by type, HTTP status and cause (errors that differ only in numbers and "
                       "ids), the largest group first, each with a real error of the group."));
    cmd.addOption(QStringLiteral("type"), QStringLiteral("Only failed events of this type."), QStringLiteral("type"));
    cmd.addOption(QStringLiteral("by-cause"),
        QStringLiteral("One group per cause, whatever the type and HTTP status (shown as * when they differ)."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("One JSON object per group."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    EventFilter f;
    f.type = cmd.value(QStringLiteral("type"));
    auto groups = storage->failureGroups(f);
    if (!groups.isOk())
        fail(RuntimeFailure, groups.error().message());
    QList<bool> mixedStatus(groups->size(), false); // by cause alone: members with different HTTP statuses
    if (cmd.isSet(QStringLiteral("by-cause"))) {
        QList<QList<qsizetype>> members;
        const QList<FailureGroup> counted = *groups;
        *groups = groupsByCauseAlone(counted, &members);
        mixedStatus.fill(false, groups->size());
        for (qsizetype i = 0; i < members.size(); ++i) {
            for (qsizetype m : std::as_const(members.at(i)))
                mixedStatus[i] =
                    mixedStatus[i] || counted.at(m).httpStatus != counted.at(members.at(i).first()).httpStatus;
        }
    }
    for (qsizetype i = 0; i < groups->size(); ++i) {
        const FailureGroup &g = groups->at(i);
        if (cmd.isSet(QStringLiteral("json"))) {
            QJsonObject o;
            o.insert(QStringLiteral("count"), g.count);
            o.insert(QStringLiteral("type"), g.type.isEmpty() ? QJsonValue() : QJsonValue(g.type));
            o.insert(QStringLiteral("http_status"),
                g.httpStatus > 0 && !mixedStatus.at(i) ? QJsonValue(g.httpStatus) : QJsonValue());
            o.insert(QStringLiteral("cause"), g.cause);
            o.insert(QStringLiteral("example"), g.example);
            o.insert(QStringLiteral("first_failure"), cloudevents::formatTime(g.firstSeen));
            o.insert(QStringLiteral("last_failure"), cloudevents::formatTime(g.lastSeen));
            cli::printJson(o);
            continue;
        }
        // A real error of the group, hosts, ports and codes as written (the group is every error of its form).
        cli::printLine(QStringLiteral("%1  %2  %3  %4  (%5 .. %6)")
                           .arg(g.count, 7)
                           .arg(g.type.isEmpty() ? QStringLiteral("*") : g.type)
                           .arg(mixedStatus.at(i)     ? QStringLiteral("*")
                                   : g.httpStatus > 0 ? QString::number(g.httpStatus)
                                                      : QStringLiteral("-"),
                               3)
                           .arg((g.example.isEmpty() ? g.cause : g.example).left(300).simplified(),
                               cloudevents::formatTime(g.firstSeen), cloudevents::formatTime(g.lastSeen)));
    }
    if (groups->isEmpty() && !cmd.isSet(QStringLiteral("json")))
        cli::printLine(QStringLiteral("no failed events"));
    return Done;
}

// stats --json: one object.
static QJsonObject statsJson(const OutboxStats *s, const QList<RelayerInfo> &relayers, const QString &format)
{
    const qint64 ageMs =
        s->oldestPendingCreatedAt.isValid() ? s->oldestPendingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) : 0;
    QJsonArray relayerList;
    for (const RelayerInfo &r : std::as_const(relayers))
        relayerList.append(relayerJson(r));
    QJsonObject o;
    o.insert(QStringLiteral("relayers"), relayerList);
    o.insert(QStringLiteral("pending"), s->pending);
    o.insert(QStringLiteral("in_flight"), s->inFlight);
    o.insert(QStringLiteral("ready"), s->ready);
    o.insert(QStringLiteral("retrying"), s->retrying);
    o.insert(QStringLiteral("parked"), s->parked);
    o.insert(QStringLiteral("oldest_ready_age_ms"),
        s->oldestReadyCreatedAt.isValid() ? QJsonValue(s->oldestReadyCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()))
                                          : QJsonValue());
    o.insert(QStringLiteral("failed"), s->failed);
    o.insert(QStringLiteral("sent"), s->sent);
    o.insert(QStringLiteral("oldest_pending_age_ms"),
        s->oldestPendingCreatedAt.isValid() ? QJsonValue(ageMs) : QJsonValue());
    o.insert(QStringLiteral("blocked_keys"), QJsonArray::fromStringList(s->blockedKeys));
    o.insert(QStringLiteral("blocked_key_count"), s->blockedKeyCount);
    if (!format.isEmpty()) {
        o.insert(QStringLiteral("format"), format);
        QJsonObject byStatus;
        for (const auto &[status, n] : std::as_const(s->byFormatStatus))
            byStatus.insert(status, n);
        o.insert(QStringLiteral("by_status"), byStatus);
        o.insert(QStringLiteral("processing"), s->processing);
        o.insert(QStringLiteral("oldest_processing_age_ms"),
            s->oldestProcessingCreatedAt.isValid()
                ? QJsonValue(s->oldestProcessingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()))
                : QJsonValue());
    }
    return o;
}

int cmdStats(const QStringList &args)
{
    Command cmd(QStringLiteral("stats"),
        QStringLiteral("Counts by status, the oldest pending event's age, blocked ordering keys, the relayers and the "
                       "leases each holds."));
    cmd.addOption(QStringLiteral("json"), QStringLiteral("As one JSON object."));
    cmd.parse(args);
    cmd.refuseArguments();
    auto storage = cmd.openStorage(Storage::OpenMode::AnyOutbox);
    auto s = storage->stats();
    if (!s.isOk())
        fail(RuntimeFailure, s.error().message());
    auto relayers = storage->relayers(true);
    if (!relayers.isOk())
        fail(RuntimeFailure, relayers.error().message());
    const qint64 ageMs =
        s->oldestPendingCreatedAt.isValid() ? s->oldestPendingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) : 0;
    if (cmd.isSet(QStringLiteral("json"))) {
        cli::printJson(statsJson(&*s, *relayers, storage->formatName()));
        return Done;
    }
    if (!storage->formatName().isEmpty()) {
        cli::printLine(QStringLiteral("format    %1 (opened as it is: nothing in it is created or altered)")
                           .arg(storage->formatName()));
        QStringList parts;
        for (const auto &[status, n] : std::as_const(s->byFormatStatus))
            parts << QStringLiteral("%1 %2").arg(status).arg(n);
        cli::printLine(QStringLiteral("statuses  %1").arg(parts.join(QStringLiteral(", "))));
        if (s->processing > 0)
            cli::printLine(
                QStringLiteral("processing %1, the oldest created %2 s ago (release with 'outboxctl release')")
                    .arg(s->processing)
                    .arg(s->oldestProcessingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) / 1000));
    }
    cli::printLine(QStringLiteral("pending   %1 (in flight %2)").arg(s->pending).arg(s->inFlight));
    if (storage->formatName().isEmpty() && s->pending > 0)
        cli::printLine(
            QStringLiteral("          %1 ready, %2 retrying, %3 parked%4")
                .arg(s->ready)
                .arg(s->retrying)
                .arg(s->parked)
                .arg(s->oldestReadyCreatedAt.isValid()
                        ? QStringLiteral("; the oldest ready %1 s old")
                              .arg(s->oldestReadyCreatedAt.msecsTo(QDateTime::currentDateTimeUtc()) / 1000.0, 0, 'f', 1)
                        : QString()));
    cli::printLine(QStringLiteral("failed    %1").arg(s->failed));
    cli::printLine(QStringLiteral("sent      %1").arg(s->sent));
    cli::printLine(
        QStringLiteral("oldest pending: %1")
            .arg(s->oldestPendingCreatedAt.isValid() ? QStringLiteral("%1 s old").arg(ageMs / 1000.0, 0, 'f', 1)
                                                     : QStringLiteral("none")));
    cli::printLine(
        QStringLiteral("blocked keys: %1")
            .arg(s->blockedKeys.isEmpty()                        ? QStringLiteral("none")
                    : s->blockedKeyCount > s->blockedKeys.size() ? QStringLiteral("%1 in all: %2, …")
                                                                       .arg(s->blockedKeyCount)
                                                                       .arg(s->blockedKeys.join(QStringLiteral(", ")))
                                                                 : s->blockedKeys.join(QStringLiteral(", "))));
    cli::printLine(QStringLiteral("relayers: %1").arg(relayersSummary(*relayers)));
    for (const RelayerInfo &r : std::as_const(*relayers)) {
        if (r.held > 0)
            cli::printLine(
                QStringLiteral("  %1 holds %2 (%3)").arg(r.owner).arg(r.held).arg(relayerStateName(r.state)));
        if (!r.target.isAvailable() && r.state != RelayerInfo::State::Gone)
            cli::printLine(QStringLiteral("  %1: %2").arg(r.owner, targetLine(r)));
    }
    return Done;
}
