import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts

// Where jobs run: the embedded local cluster or a remote JobManager (URL and the cluster
// secret's file), its TaskManagers and slots, and its jobs, any of which can be attached to
// (its graph opens with live figures). Run deploys the open job to the chosen cluster.
Rectangle {
    id: panel
    required property RunController run
    /// Saved remote clusters: [{url, secretFile, caFile}] (kept by the window's settings).
    property var remotes: []
    signal remotesEdited(var remotes)
    color: Theme.panel
    readonly property alias addClusterDialog: addDialog

    // Add cluster: its URL, the file holding its secret and, for https, its CA's file; the
    // two files are picked in a file dialog (or typed).
    Dialog {
        id: addDialog
        objectName: "addClusterDialog"
        title: "Add a cluster"
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: 460
        modal: true
        property alias filePicker: picker
        property var pickInto: null  // the field the picked file goes to
        onOpened: urlField.forceActiveFocus()
        function pick(field, title) {
            pickInto = field
            picker.title = title
            picker.open()
        }
        FileDialog {
            id: picker
            fileMode: FileDialog.OpenFile
            nameFilters: ["All files (*)"]
            onAccepted: {
                const f = String(selectedFile)
                addDialog.pickInto.text = f.startsWith("file://") ? decodeURIComponent(f.substring(7)) : f
            }
        }
        GridLayout {
            anchors.fill: parent
            columns: 3
            columnSpacing: 6
            rowSpacing: 6
            Label { text: "URL"; color: Theme.text }
            TextField {
                id: urlField
                objectName: "clusterUrlField"
                Layout.fillWidth: true
                Layout.columnSpan: 2
                placeholderText: "http://host:8081 or https://host:8081"
                selectByMouse: true
            }
            Label { text: "Secret file"; color: Theme.text }
            TextField {
                id: secretField
                objectName: "clusterSecretField"
                Layout.fillWidth: true
                placeholderText: "none (or WEIR_SECRET)"
                selectByMouse: true
            }
            Button { objectName: "browseSecret"; text: "Browse…"; onClicked: addDialog.pick(secretField, "The cluster's secret file") }
            Label { text: "CA file"; color: Theme.text; enabled: caField.enabled }
            TextField {
                id: caField
                objectName: "clusterCaField"
                Layout.fillWidth: true
                enabled: urlField.text.trim().startsWith("https")
                placeholderText: enabled ? "the system's (or WEIR_TLS_CA)" : "only for https"
                selectByMouse: true
            }
            Button { objectName: "browseCa"; text: "Browse…"; enabled: caField.enabled; onClicked: addDialog.pick(caField, "The CA certificate (PEM)") }
        }
        footer: DialogButtonBox {
            Button { text: "Add"; enabled: urlField.text.trim() !== ""; DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole }
            Button { text: "Cancel"; DialogButtonBox.buttonRole: DialogButtonBox.RejectRole }
        }
        onAccepted: {
            const url = urlField.text.trim(), secret = secretField.text.trim(), ca = caField.enabled ? caField.text.trim() : ""
            const r = panel.remotes.filter(c => c.url !== url)
            r.push({ url: url, secretFile: secret, caFile: ca })
            panel.remotesEdited(r)
            panel.run.useRemote(url, secret, ca)
            urlField.text = ""
            secretField.text = ""
            caField.text = ""
        }
    }

    Timer {  // keep the lists fresh while the panel shows
        interval: 3000; repeat: true; running: panel.visible
        onTriggered: panel.run.refreshCluster()
    }
    onVisibleChanged: if (visible) run.refreshCluster()

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 6

        Label { text: "Run on"; font.bold: true; color: Theme.text }
        ButtonGroup { id: targets }
        RadioButton {
            objectName: "targetLocal"
            text: "Local cluster" + (panel.run.clusterState === "running" ? "" : " (starts on Run)")
            checked: !panel.run.remote
            ButtonGroup.group: targets
            onClicked: panel.run.useLocal()
        }
        Repeater {
            model: panel.remotes
            delegate: RowLayout {
                required property var modelData
                required property int index
                Layout.fillWidth: true
                RadioButton {
                    Layout.fillWidth: true
                    text: modelData.url
                    checked: panel.run.remote && panel.run.targetUrl === modelData.url
                    ButtonGroup.group: targets
                    onClicked: panel.run.useRemote(modelData.url, modelData.secretFile, modelData.caFile || "")
                    ToolTip.visible: hovered && (modelData.secretFile !== "" || (modelData.caFile || "") !== "")
                    ToolTip.text: "secret: " + (modelData.secretFile || "none") + "\nCA: " + (modelData.caFile || "system")
                }
                ToolButton {
                    text: "×"
                    onClicked: {
                        const r = panel.remotes.slice()
                        r.splice(index, 1)
                        panel.remotesEdited(r)
                        if (panel.run.remote && panel.run.targetUrl === modelData.url) panel.run.useLocal()
                    }
                }
            }
        }
        Button {
            objectName: "addClusterButton"
            text: "Add cluster…"
            onClicked: addDialog.open()
        }
        Label {
            text: "TaskManagers"
            font.bold: true
            color: Theme.text
            Layout.topMargin: 6
        }
        Label {
            visible: panel.run.taskManagerList.length === 0
            text: panel.run.remote ? "none reachable" : panel.run.clusterState === "running" ? "none" : "not started"
            color: Theme.textFaint
            font.pixelSize: 11
        }
        Repeater {
            model: panel.run.taskManagerList
            delegate: Label {
                required property var modelData
                Layout.fillWidth: true
                elide: Text.ElideRight
                font.pixelSize: 11
                color: modelData.state === "LOST" ? Theme.error : Theme.text
                text: modelData.name + "  " + modelData.slotsAvailable + "/" + modelData.slots + " slots free"
                      + (modelData.state === "LOST" ? "  LOST" : "")
            }
        }

        Label {
            text: "Jobs"
            font.bold: true
            color: Theme.text
            Layout.topMargin: 6
        }
        ListView {
            objectName: "clusterJobs"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: panel.run.jobList
            delegate: RowLayout {
                required property var modelData
                width: ListView.view.width
                Label {
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    font.pixelSize: 11
                    color: modelData.status === "FAILED" ? Theme.error : modelData.status === "RUNNING" ? Theme.accent : Theme.text
                    text: modelData.name + "  " + modelData.status
                    ToolTip.visible: hoverJob.hovered
                    ToolTip.text: modelData.id
                    HoverHandler { id: hoverJob }
                }
                ToolButton {
                    text: "Attach"
                    font.pixelSize: 11
                    enabled: !panel.run.jobActive
                    onClicked: panel.run.attach(modelData.id)
                }
            }
        }
    }
}
