// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace outbox::ui {

// The relay panel's settings besides the target: content mode, batch, timing, retries, certificates, headers,
// signing secret and routes. Kept by the names `outboxctl relay` gives them (relayersettings.h), so both build a
// relayer the one way. The typed header is never stored; the secrets stay in files, only their paths are.
class RelaySettingsForm : public QWidget
{
    Q_OBJECT
public:
    explicit RelaySettingsForm(QWidget *parent = nullptr);

    // Adds the settings to `s`; withSecrets adds the typed header and the header, signing-secret and routes files.
    void addTo(QHash<QString, QStringList> &s, bool withSecrets) const;
    QString modeText() const;
    bool hasRoutes() const;
    // The settings in a few words, for the panel while the form is folded away.
    QString summary() const;

    void load();
    void save() const;

Q_SIGNALS:
    void changed(); // any setting, as it is typed

private:
    QComboBox *m_mode;
    QSpinBox *m_batch;
    QSpinBox *m_poll;
    QSpinBox *m_retries;
    QSpinBox *m_backoff;
    QSpinBox *m_backoffCap;
    QSpinBox *m_concurrency;
    QSpinBox *m_timeout;
    QLineEdit *m_caFile;
    QLineEdit *m_header; // one header typed in; its value is shown masked and never stored
    QLineEdit *m_headerFile; // "Name: value" lines (secrets stay in the file; only its path is stored)
    QLineEdit *m_signingFile; // a whsec_ secret: Standard Webhooks signatures
    QLineEdit *m_clientCert;
    QLineEdit *m_clientKey;
    QLineEdit *m_routesFile; // routes by event type (outboxctl relay --routes format)
};

} // namespace outbox::ui
