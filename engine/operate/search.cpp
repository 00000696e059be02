// SPDX-License-Identifier: MIT
#include "search.h"

#include "jsonquery.h"

namespace outbox {

Error searchPayloads(Storage &storage, const PayloadSearch &search,
    const std::function<bool(const QList<qint64> &)> &found, const std::function<bool(int percent)> &progress)
{
    const std::optional<JsonQuery> query = JsonQuery::parse(QString::fromUtf8(search.text));
    const QByteArray contains = query ? query->prefilter() : search.text;
    Error error;
    bool stopped = false;
    // A condition: the rows the database narrowed to are parsed and compared here.
    auto sink = [&](const QList<qint64> &chunk) {
        QList<qint64> kept = chunk;
        if (query && !kept.isEmpty()) {
            auto rows = storage.eventsBySequence(kept, true);
            if (!rows.isOk()) {
                error = rows.error();
                return false;
            }
            QSet<qint64> matching;
            for (const OutboxEvent &e : rows.value()) {
                if (query->matches(e.data))
                    matching.insert(e.sequence);
            }
            kept.removeIf([&](qint64 seq) { return !matching.contains(seq); });
        }
        if (!found(kept)) {
            stopped = true;
            return false;
        }
        return true;
    };
    EventFilter f = search.filter;
    f.payloadContains = contains;
    if (search.text.isEmpty() || !storage.has(Storage::Capability::SequenceWindows)) {
        auto scanned = storage.scanSequences(f, search.text.isEmpty() ? search.order : SortOrder{}, 1000, sink);
        return error ? error : scanned.isOk() || stopped ? Error() : scanned.error();
    }
    // A bounded search: windows of sequence numbers, newest first, with progress in between.
    auto top = storage.maxSequence();
    if (!top.isOk())
        return top.error();
    const qint64 high = search.filter.sequenceAtMost > 0 ? qMin(search.filter.sequenceAtMost, *top) : *top;
    const qint64 low =
        qMax<qint64>(qMax<qint64>(0, search.filter.sequenceAbove), search.range > 0 ? high - search.range : 0);
    for (qint64 hi = high; hi > low && !stopped; hi -= kPayloadSearchWindow) {
        f.sequenceAtMost = hi;
        f.sequenceAbove = qMax(low, hi - kPayloadSearchWindow);
        auto scanned = storage.scanSequences(f, SortOrder{}, 1000, sink);
        if (error)
            return error;
        if (!scanned.isOk() && !stopped)
            return scanned.error();
        if (progress && !stopped && !progress(high > low ? int(100 * (high - f.sequenceAbove) / (high - low)) : 100))
            stopped = true;
    }
    return {};
}

} // namespace outbox
