// SPDX-License-Identifier: MIT
#include "networkworker.h"

namespace outbox {

namespace {

bool envProxyExcluded(const QString &host)
{
    const QString list = qEnvironmentVariable("no_proxy", qEnvironmentVariable("NO_PROXY"));
    for (QString entry : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        entry = entry.trimmed();
        if (entry == QLatin1String("*"))
            return true;
        if (entry.startsWith(QLatin1Char('.')))
            entry.remove(0, 1);
        if (host.compare(entry, Qt::CaseInsensitive) == 0
            || host.endsWith(QLatin1Char('.') + entry, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

QNetworkProxy proxyFor(const QUrl &target, bool https)
{
    const QList<QNetworkProxy> app = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(target));
    if (!app.isEmpty() && app.first().type() != QNetworkProxy::NoProxy
        && app.first().type() != QNetworkProxy::DefaultProxy)
        return app.first();
    const char *names[] = {
        https ? "https_proxy" : "http_proxy", https ? "HTTPS_PROXY" : "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (const char *name : names) {
        const QString value = qEnvironmentVariable(name);
        if (value.isEmpty())
            continue;
        if (envProxyExcluded(target.host()))
            break;
        const QUrl url = QUrl::fromUserInput(value);
        if (!url.isValid() || url.host().isEmpty())
            break;
        const bool socks = url.scheme().startsWith(QLatin1String("socks"));
        return QNetworkProxy(socks ? QNetworkProxy::Socks5Proxy : QNetworkProxy::HttpProxy, url.host(),
            quint16(url.port(socks ? 1080 : 8080)), url.userName(), url.password());
    }
    return QNetworkProxy(QNetworkProxy::NoProxy);
}

} // namespace outbox
