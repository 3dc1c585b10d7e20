public enum Linearizability {}
