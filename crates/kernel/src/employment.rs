//! The vocabulary of graduate employment that several crates share: education levels
//! (学历层次) and kinds of employer (单位性质). The slugs are stored, indexed and sent
//! between nodes; they never change.

use crate::labelled_enum;

labelled_enum! {
    /// 学历层次, lowest first: a graduate's level, and the minimum level a job asks for.
    #[derive(PartialOrd, Ord)]
    Level {
        SecondaryVocational = "secondary-vocational", "中职", "Secondary vocational";
        JuniorCollege = "junior-college", "专科", "Junior college";
        Bachelor = "bachelor", "本科", "Bachelor";
        Master = "master", "硕士研究生", "Master";
        Doctor = "doctor", "博士研究生", "Doctorate";
    }
}

labelled_enum! {
    /// 单位性质: what kind of organisation an employer is.
    EmployerType {
        Soe = "soe", "国有企业", "State-owned enterprise";
        Private = "private", "民营企业", "Private enterprise";
        Foreign = "foreign", "外资企业", "Foreign-invested enterprise";
        Institution = "institution", "事业单位", "Public institution";
        Government = "government", "机关", "Government agency";
        Other = "other", "其他", "Other";
    }
}
