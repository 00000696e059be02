// SPDX-License-Identifier: MIT
#pragma once

// For broker transport plug-ins (header-only, like transportplugin.h): the checks of a target URL every
// plug-in's problem() makes the same way, each giving one line, or empty when the URL passes.

#include <QStringList>
#include <QUrl>
#include <QUrlQuery>

namespace outbox {

// A query item whose name is not in `known`: "<what> takes only ?a=" or "<what> takes ?a=, ?b= and ?c=",
// then the unknown name. `what`: the target, "an AMQP target".
inline QString unknownQueryItemProblem(const QUrl &url, const QString &what, const QStringList &known)
{
    for (const auto &[name, value] : QUrlQuery(url).queryItems()) {
        if (known.contains(name))
            continue;
        QStringList items;
        for (const QString &k : known)
            items << QStringLiteral("?%1=").arg(k);
        const QString list = items.size() == 1
            ? QStringLiteral("only ") + items.first()
            : items.mid(0, items.size() - 1).join(QStringLiteral(", ")) + QStringLiteral(" and ") + items.last();
        return QStringLiteral("%1 takes %2 ('%3' is not known)").arg(what, list, name);
    }
    return {};
}

// A password written in the URL, where a secret would end up in process lists, logs and settings files.
// `what`: "an AMQP URL".
inline QString passwordInUrlProblem(const QUrl &url, const QString &what)
{
    if (url.password().isEmpty())
        return {};
    return QStringLiteral("a password in %1 is not taken: secrets only come from files (?password-file=)").arg(what);
}

} // namespace outbox
