// SPDX-License-Identifier: MIT
#include "duration.h"

#include <QRegularExpression>

namespace outbox {

Result<qint64> parseDuration(const QString &text)
{
    static const QRegularExpression part(QStringLiteral("(\\d+)(ms|s|m|h|d|w)"));
    const QString t = text.trimmed().toLower();
    const Error bad(Error::InvalidArgument,
        QStringLiteral("invalid duration '%1': use a number and a unit, e.g. 7d, 12h, 30m, 45s, 500ms").arg(text));
    if (t.isEmpty())
        return bad;
    qint64 total = 0;
    qsizetype pos = 0;
    while (pos < t.size()) {
        const QRegularExpressionMatch m =
            part.match(t, pos, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
        if (!m.hasMatch())
            return bad;
        bool ok = false;
        const qint64 n = m.captured(1).toLongLong(&ok);
        if (!ok || n > 1'000'000'000)
            return bad;
        const QString unit = m.captured(2);
        const qint64 scale = unit == QLatin1String("ms") ? 1
            : unit == QLatin1String("s")                 ? 1000
            : unit == QLatin1String("m")                 ? 60'000
            : unit == QLatin1String("h")                 ? 3'600'000
            : unit == QLatin1String("d")                 ? 86'400'000
                                                         : 604'800'000;
        total += n * scale;
        if (total > 3'153'600'000'000LL) // a century is enough for any age or delay
            return bad;
        pos = m.capturedEnd();
    }
    return total;
}

} // namespace outbox
