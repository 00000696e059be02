// SPDX-License-Identifier: MIT
#pragma once

// Private: what the Storage implementations (SqlStorage, RomancyStorage) share beside their connection.

#include "storage.h"

#include <functional>
#include <optional>

namespace outbox::detail {

// For scanSequences(): a filter's `find` tried first as a whole id, which the id index answers at once.
// The answer when that settles it (an error, or rows found); nothing when the whole find must run.
std::optional<Result<qint64>> scanWholeIdFirst(Storage &storage, const EventFilter &filter, SortOrder order, int chunk,
    const std::function<bool(const QList<qint64> &)> &sink);

// `text` as the start of a LIKE pattern with '!' as its escape character (`LIKE ? ESCAPE '!'`), '%' appended:
// a backslash means different things in MySQL's and PostgreSQL's literals.
QString likePrefix(const QString &text);

} // namespace outbox::detail
