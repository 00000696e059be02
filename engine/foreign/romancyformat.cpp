// SPDX-License-Identifier: MIT
// The romancy/edda outbox_events format's statuses and value forms (see romancyformat.h).
#include "romancyformat.h"

#include <QTimeZone>

namespace outbox::detail::romancy {

// The statuses of the format, and how they read as ours.
const QStringList kPendingStatuses = {QStringLiteral("pending"), QStringLiteral("processing")};
const QStringList kFailedStatuses = {QStringLiteral("failed"), QStringLiteral("invalid"), QStringLiteral("expired")};
const QStringList kFormatStatuses = {QStringLiteral("pending"), QStringLiteral("processing"),
    QStringLiteral("published"), QStringLiteral("failed"), QStringLiteral("invalid"), QStringLiteral("expired")};

QString quotedList(const QStringList &values)
{
    QStringList out;
    for (const QString &v : values)
        out << QLatin1Char('\'') + v + QLatin1Char('\'');
    return out.join(QStringLiteral(", "));
}

QString placeholders(qsizetype n)
{
    QStringList out;
    out.fill(QStringLiteral("?"), n);
    return out.join(QStringLiteral(", "));
}

// A time bound as the frameworks write theirs: UTC text without a zone.
QString timeValue(const QDateTime &t)
{
    return t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

// A time read back as text: 'YYYY-MM-DD HH:MM:SS', with fractions or a 'T' (UTC).
QDateTime parseTime(const QVariant &v)
{
    if (v.isNull())
        return {};
    QString s = v.toString().trimmed();
    s.replace(QLatin1Char('T'), QLatin1Char(' '));
    if (s.endsWith(QLatin1Char('Z')))
        s.chop(1);
    const qsizetype dot = s.indexOf(QLatin1Char('.'));
    QString fraction;
    if (dot >= 0) {
        fraction = s.mid(dot + 1).left(3);
        s.truncate(dot);
    }
    QDateTime t = QDateTime::fromString(s, QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (!t.isValid())
        return {};
    t.setTimeZone(QTimeZone::utc());
    while (fraction.size() < 3)
        fraction += QLatin1Char('0');
    return t.addMSecs(fraction.toInt());
}

EventStatus statusOf(const QString &formatStatus)
{
    if (formatStatus == QLatin1String("published"))
        return EventStatus::Sent;
    if (kFailedStatuses.contains(formatStatus))
        return EventStatus::Failed;
    return EventStatus::Pending;
}

} // namespace outbox::detail::romancy
