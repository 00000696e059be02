// SPDX-License-Identifier: MIT
#include "processinfo.h"

#include <QFile>

#include <unistd.h>

namespace outbox::detail {

namespace {
QByteArray readSmallFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.read(4096);
}

QByteArray bootId()
{
    static const QByteArray id = readSmallFile(QStringLiteral("/proc/sys/kernel/random/boot_id")).trimmed();
    return id;
}

// This process's PID namespace ("pid:[4026531836]"): a process id means something only inside its namespace
// (two containers on one host, unshare --pid).
QByteArray pidNamespace()
{
    static const QByteArray ns = [] {
        char target[128];
        const ssize_t n = ::readlink("/proc/self/ns/pid", target, sizeof target - 1);
        return n > 0 ? QByteArray(target, n) : QByteArray("pid:[?]");
    }();
    return ns;
}
} // namespace

bool canTellProcessStart()
{
    return !bootId().isEmpty();
}

QString processStartToken(qint64 pid)
{
    if (pid <= 0 || !canTellProcessStart())
        return {};
    // /proc/PID/stat: "pid (comm) state ppid ...", the start time is field 22. The command name may hold
    // spaces and parentheses, so the fields are counted from the last ')'.
    const QByteArray stat = readSmallFile(QStringLiteral("/proc/%1/stat").arg(pid));
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return {};
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    // fields[0] is field 3 (the state), so field 22 is fields[19].
    if (fields.size() < 20 || fields.at(0) == "Z" || fields.at(0) == "X")
        return {}; // a zombie has exited: it only waits to be reaped
    return QString::fromLatin1(bootId() + ' ' + pidNamespace() + ' ' + fields.at(19));
}

bool isOfThisPidNamespace(const QString &token)
{
    const QStringList parts = token.split(QLatin1Char(' '));
    return parts.size() == 3 && parts.at(0).toLatin1() == bootId() && parts.at(1).toLatin1() == pidNamespace();
}

} // namespace outbox::detail
