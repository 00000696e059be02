// SPDX-License-Identifier: MIT
#pragma once

#include "cloudevents.h"
#include "outboxevent.h"

#include <QDialog>
#include <QJsonObject>

class QComboBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace outbox::ui {

// Writes one CloudEvent by hand: attributes, extensions and data (with JSON validation), kept as named
// templates; then sends it straight to a URL in any content mode, or enqueues it into the open outbox. It
// opens on the event last sent or enqueued from it (or an example), so one click sends something.
class ComposerDialog : public QDialog
{
    Q_OBJECT
public:
    explicit ComposerDialog(QWidget *parent = nullptr);

    // Fills the form from an event (the table's "Reproduce in composer").
    void setEvent(const OutboxEvent &event);
    // Edit & retry: the form holds a copy of a failed event to fix; "Enqueue fix" enqueues it as a new event
    // that names the original (replayof), and then deletes the original or keeps it (deleteOriginal()).
    void editForRetry(const OutboxEvent &original);
    void stopFixing(); // back to composing a new event
    QString fixedEventId() const { return m_fixing; }
    bool deleteOriginal() const;
    // Fills every field from a CloudEvent in structured mode (JSON); false and *problem when it is not one.
    bool fillFromStructured(const QByteArray &json, QString *problem);
    // The event as composed, or an empty event and the reason in *problem.
    OutboxEvent composedEvent(QString *problem) const;
    void setTargetUrl(const QString &url);
    // `why`: shown when enqueuing is off (default: no outbox is open).
    void setCanEnqueue(bool can, const QString &why = {});
    // Shows how an enqueue went (called back by the window).
    void showEnqueueResult(const QString &idOrEmpty, const QString &error);

    QLineEdit *typeEdit() const { return m_type; }
    QLineEdit *sourceEdit() const { return m_source; }
    QLineEdit *idEdit() const { return m_id; }
    QLineEdit *subjectEdit() const { return m_subject; }
    QLineEdit *contentTypeEdit() const { return m_contentType; }
    QLineEdit *keyEdit() const { return m_key; }
    QTableWidget *extensionTable() const { return m_extensions; }
    QPlainTextEdit *dataEdit() const { return m_data; }
    QLabel *validationLabel() const { return m_validation; }
    QLabel *resultLabel() const { return m_result; }
    QLineEdit *urlEdit() const { return m_url; }
    QComboBox *modeBox() const { return m_mode; }
    QComboBox *templateBox() const { return m_templates; }
    QPushButton *sendButton() const { return m_send; }
    QPushButton *enqueueButton() const { return m_enqueue; }
    QLineEdit *signingFileEdit() const { return m_signingFile; }
    // "New secret…" without its file dialog: a new whsec_ secret in a new 0600 file, then signing with it.
    bool createSigningSecret(const QString &path);

    void saveTemplate(const QString &name);
    // A saved template by name, or one of the two built in: lastSentName() and exampleName().
    void loadTemplate(const QString &name);
    static QString lastSentName() { return tr("(last sent)"); }
    static QString exampleName() { return tr("(example) order created"); }

Q_SIGNALS:
    void enqueueRequested(const outbox::OutboxEvent &event);

private:
    void validate();
    void send();
    void setExtensions(const QJsonObject &extensions);
    void reloadTemplates();
    QJsonObject currentTemplate() const; // the form as a template (all but the id)
    void fillFrom(const QJsonObject &templ); // the form from a template, with a new id
    void rememberLastSent(); // what is about to be sent or enqueued, for the next opening
    static QJsonObject exampleTemplate();
    static QJsonObject storedTemplate(const QString &settingsKey);

    QComboBox *m_templates;
    QLineEdit *m_type;
    QLineEdit *m_source;
    QLineEdit *m_subject;
    QLineEdit *m_id;
    QLineEdit *m_contentType;
    QLineEdit *m_key;
    QTableWidget *m_extensions;
    QPlainTextEdit *m_data;
    QLabel *m_validation;
    QLineEdit *m_url;
    QLineEdit *m_signingFile; // Standard Webhooks: a whsec_ secret file signs Send to URL
    QComboBox *m_mode;
    QPushButton *m_send;
    QPushButton *m_enqueue;
    QLabel *m_result;
    QNetworkAccessManager *m_network;
    bool m_canEnqueue = false;
    QString m_fixing; // the id of the failed event being fixed
    QLabel *m_fixBanner;
    QComboBox *m_originalFate;
};

} // namespace outbox::ui
