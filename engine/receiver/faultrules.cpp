// SPDX-License-Identifier: MIT
// Fault rules of the receiver: which requests get which faults, and the one-line form that outboxctl receive
// and the console's tester read.
#include "receiver.h"

#include <QStringList>

namespace outbox {

namespace {

// '*' matches any run of characters (also none), every other character itself; an empty pattern matches all.
bool globMatches(const QString &pattern, const QString &text)
{
    if (pattern.isEmpty())
        return true;
    const QStringList pieces = pattern.split(QLatin1Char('*'));
    if (pieces.size() == 1)
        return text == pattern;
    if (!text.startsWith(pieces.first()))
        return false;
    qsizetype at = pieces.first().size();
    for (qsizetype i = 1; i < pieces.size() - 1; ++i) {
        const qsizetype found = text.indexOf(pieces.at(i), at);
        if (found < 0)
            return false;
        at = found + pieces.at(i).size();
    }
    const QString &last = pieces.last();
    return text.size() - at >= last.size() && text.endsWith(last);
}

Result<int> wholeNumber(const QString &key, const QString &value, int lowest, int highest)
{
    bool ok = false;
    const int n = value.toInt(&ok);
    if (!ok || n < lowest || n > highest)
        return Error(Error::InvalidArgument,
            QStringLiteral("fault rule: '%1=%2' needs a whole number from %3 to %4")
                .arg(key, value)
                .arg(lowest)
                .arg(highest));
    return n;
}

} // namespace

bool ReceiverFaultRule::matches(const OutboxEvent &event) const
{
    return globMatches(type, event.type) && globMatches(source, event.source) && globMatches(subject, event.subject);
}

// (Long: one branch per key the rule language has.)
Result<ReceiverFaultRule> ReceiverFaultRule::parse(const QString &text)
{
    ReceiverFaultRule rule;
    bool anyFault = false;
    const QStringList parts = text.split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (parts.isEmpty())
        return Error(
            Error::InvalidArgument, QStringLiteral("fault rule: empty (write e.g. type=com.example.*,status=503)"));
    for (const QString &raw : parts) {
        const QString part = raw.trimmed();
        const qsizetype eq = part.indexOf(QLatin1Char('='));
        const QString key = (eq < 0 ? part : part.left(eq)).trimmed().toLower();
        const QString value = eq < 0 ? QString() : part.mid(eq + 1).trimmed();
        if (key == QLatin1String("type") || key == QLatin1String("source") || key == QLatin1String("subject")) {
            (key == QLatin1String("type")            ? rule.type
                    : key == QLatin1String("source") ? rule.source
                                                     : rule.subject) = value;
            continue;
        }
        anyFault = true;
        if (key == QLatin1String("hang") || key == QLatin1String("drop")) {
            if (!value.isEmpty() && value != QLatin1String("true") && value != QLatin1String("1"))
                return Error(Error::InvalidArgument, QStringLiteral("fault rule: '%1' takes no value").arg(key));
            (key == QLatin1String("hang") ? rule.faults.hang : rule.faults.dropConnection) = true;
        } else if (key == QLatin1String("status")) {
            auto n = wholeNumber(key, value, 100, 599);
            if (!n.isOk())
                return n.error();
            rule.faults.status = *n == 200 ? 0 : *n;
        } else if (key == QLatin1String("delay")) {
            auto n = wholeNumber(key, value, 0, 3600000);
            if (!n.isOk())
                return n.error();
            rule.faults.delayMs = *n;
        } else if (key == QLatin1String("retry-after")) {
            auto n = wholeNumber(key, value, 0, 86400);
            if (!n.isOk())
                return n.error();
            rule.faults.retryAfterSeconds = *n;
        } else if (key == QLatin1String("fail-rate")) {
            bool ok = false;
            rule.faults.failRate = value.toDouble(&ok);
            if (!ok || rule.faults.failRate < 0 || rule.faults.failRate > 1)
                return Error(Error::InvalidArgument,
                    QStringLiteral("fault rule: 'fail-rate=%1' needs a number from 0 to 1").arg(value));
        } else {
            return Error(Error::InvalidArgument,
                QStringLiteral("fault rule: unknown key '%1' (known: type, source, subject, status, fail-rate, "
                               "delay, retry-after, hang, drop)")
                    .arg(key));
        }
    }
    if (!anyFault)
        return Error(Error::InvalidArgument,
            QStringLiteral("fault rule '%1' sets no fault (status, fail-rate, delay, retry-after, hang or drop)")
                .arg(text.trimmed()));
    return rule;
}

QString ReceiverFaultRule::toString() const
{
    QStringList parts;
    if (!type.isEmpty())
        parts << QStringLiteral("type=") + type;
    if (!source.isEmpty())
        parts << QStringLiteral("source=") + source;
    if (!subject.isEmpty())
        parts << QStringLiteral("subject=") + subject;
    if (faults.status != 0)
        parts << QStringLiteral("status=%1").arg(faults.status);
    if (faults.failRate > 0)
        parts << QStringLiteral("fail-rate=%1").arg(faults.failRate);
    if (faults.delayMs > 0)
        parts << QStringLiteral("delay=%1").arg(faults.delayMs);
    if (faults.retryAfterSeconds >= 0)
        parts << QStringLiteral("retry-after=%1").arg(faults.retryAfterSeconds);
    if (faults.hang)
        parts << QStringLiteral("hang");
    if (faults.dropConnection)
        parts << QStringLiteral("drop");
    return parts.join(QLatin1Char(','));
}

} // namespace outbox
