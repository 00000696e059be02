// SPDX-License-Identifier: MIT
#pragma once

// Private: the romancy/edda outbox_events format's statuses and value forms, shared by RomancyStorage's
// reading (romancystorage.cpp) and repairs (romancyrepair.cpp).

#include "outboxevent.h"

#include <QDateTime>
#include <QStringList>
#include <QVariant>

namespace outbox::detail::romancy {

// The statuses of the format, and how they read as ours.
extern const QStringList kPendingStatuses;
extern const QStringList kFailedStatuses;
extern const QStringList kFormatStatuses;

// 'a', 'b' for an IN list of fixed names; ?, ? for n placeholders.
QString quotedList(const QStringList &values);
QString placeholders(qsizetype n);
// A time bound as the frameworks write theirs: UTC text without a zone.
QString timeValue(const QDateTime &t);
// A time read back as text: 'YYYY-MM-DD HH:MM:SS', with fractions or a 'T' (UTC).
QDateTime parseTime(const QVariant &v);
EventStatus statusOf(const QString &formatStatus);

} // namespace outbox::detail::romancy
